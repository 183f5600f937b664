import { expect } from 'chai';
import {
  agentProfileSchema, chooseAssignee, routingSettingsSchema, type AssignmentCandidate, type AssignmentInput,
} from '../../server/routing/assignment-policy.ts';

function agent(agentId: string, fields: Partial<AssignmentCandidate> = {}): AssignmentCandidate {
  return { agentId, status: 'online', openCount: 0, languages: ['en'], skills: [], lastAssignedAt: null, ...fields };
}

const minutesAgo = (n: number) => new Date(Date.parse('2026-01-12T12:00:00Z') - n * 60_000);

function choose(candidates: AssignmentCandidate[], more: Partial<AssignmentInput> = {}) {
  return chooseAssignee({ mode: 'round_robin', maxOpenPerAgent: 5, candidates, ...more });
}

/** mulberry32: a small seeded PRNG, so the simulations replay the same way. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const spread = (values: number[]) => Math.max(...values) - Math.min(...values);

describe('chooseAssignee', () => {
  it('assigns nobody in manual mode', () => {
    expect(choose([agent('a')], { mode: 'manual' })).to.equal(null);
  });

  it('never chooses an away or offline agent', () => {
    const team = [agent('a', { status: 'away' }), agent('b', { status: 'offline' })];
    expect(choose(team)).to.equal(null);
    expect(choose(team, { mode: 'least_busy' })).to.equal(null);
    expect(choose([...team, agent('c', { lastAssignedAt: minutesAgo(1), openCount: 4 })])?.agentId).to.equal('c');
  });

  it('skips agents at capacity (openCount must be under maxOpenPerAgent)', () => {
    const team = [agent('a', { openCount: 5 }), agent('b', { openCount: 4, lastAssignedAt: minutesAgo(1) })];
    expect(choose(team)?.agentId).to.equal('b');
    expect(choose(team, { maxOpenPerAgent: 4 })).to.equal(null);
    expect(choose(team, { mode: 'least_busy', maxOpenPerAgent: 4 })).to.equal(null);
    expect(choose([])).to.equal(null);
  });

  describe('round robin', () => {
    it('takes whoever was assigned longest ago, never-assigned first', () => {
      const team = [agent('a', { lastAssignedAt: minutesAgo(5) }), agent('b', { lastAssignedAt: minutesAgo(30) }), agent('c', { lastAssignedAt: minutesAgo(10) })];
      expect(choose(team)).to.deep.equal({ agentId: 'b', reason: 'round robin' });
      expect(choose([...team, agent('d')])?.agentId).to.equal('d');
    });

    it('breaks ties by agent id, whatever the order given', () => {
      const team = [agent('m'), agent('c'), agent('x')];
      expect(choose(team)?.agentId).to.equal('c');
      expect(choose([...team].reverse())?.agentId).to.equal('c');
      const same = minutesAgo(3);
      expect(choose([agent('q', { lastAssignedAt: same }), agent('p', { lastAssignedAt: same })])?.agentId).to.equal('p');
    });

    it('ignores the load', () => {
      const team = [agent('a', { openCount: 0, lastAssignedAt: minutesAgo(1) }), agent('b', { openCount: 4, lastAssignedAt: minutesAgo(2) })];
      expect(choose(team)?.agentId).to.equal('b');
    });
  });

  describe('least busy', () => {
    it('takes the fewest open conversations and says how many', () => {
      const team = [agent('a', { openCount: 3 }), agent('b', { openCount: 2, lastAssignedAt: minutesAgo(1) }), agent('c', { openCount: 4 })];
      expect(choose(team, { mode: 'least_busy' })).to.deep.equal({ agentId: 'b', reason: 'least busy (2 open)' });
    });

    it('then whoever was assigned longest ago, then the agent id', () => {
      const team = [agent('a', { openCount: 1, lastAssignedAt: minutesAgo(5) }), agent('b', { openCount: 1, lastAssignedAt: minutesAgo(9) }), agent('c', { openCount: 2 })];
      expect(choose(team, { mode: 'least_busy' })?.agentId).to.equal('b');
      expect(choose([agent('z', { openCount: 1 }), agent('y', { openCount: 1 })], { mode: 'least_busy' })?.agentId).to.equal('y');
    });
  });

  describe('language and skill', () => {
    const team = [
      agent('ana', { languages: ['es', 'en'], lastAssignedAt: minutesAgo(1), openCount: 3 }),
      agent('bob', { languages: ['en'], lastAssignedAt: minutesAgo(60), openCount: 0 }),
      agent('chiara', { languages: ['it', 'en'], lastAssignedAt: minutesAgo(30), skills: ['insurance'] }),
      agent('diego', { languages: ['es'], lastAssignedAt: minutesAgo(2), skills: ['insurance', 'lab-results'], openCount: 4 }),
    ];

    it('prefers a speaker of the patient language over round-robin order', () => {
      expect(choose(team, { language: 'es' })).to.deep.equal({ agentId: 'diego', reason: 'round robin; speaks Spanish' });
      expect(choose(team, { language: 'it' })).to.deep.equal({ agentId: 'chiara', reason: 'round robin; speaks Italian' });
    });

    it('prefers a speaker over the least busy', () => {
      expect(choose(team, { mode: 'least_busy', language: 'es' })).to.deep.equal({ agentId: 'ana', reason: 'least busy (3 open); speaks Spanish' });
    });

    it('matches the primary language and ignores case', () => {
      expect(choose(team, { language: 'ES-mx' })?.agentId).to.equal('diego');
      expect(choose([agent('eva', { languages: ['pt-BR'] }), agent('abe')], { language: 'pt' })?.agentId).to.equal('eva');
    });

    it('falls back to everyone available when nobody speaks it, and says so', () => {
      expect(choose(team, { language: 'fr' })).to.deep.equal({ agentId: 'bob', reason: 'round robin; nobody available speaks French' });
    });

    it('only counts speakers who are available', () => {
      const busySpeakers = team.map((a) => (a.languages.includes('es') ? { ...a, status: 'away' as const } : a));
      expect(choose(busySpeakers, { language: 'es' })).to.deep.equal({ agentId: 'bob', reason: 'round robin; nobody available speaks Spanish' });
    });

    it('prefers the skill, after the language', () => {
      expect(choose(team, { skill: 'insurance' })).to.deep.equal({ agentId: 'chiara', reason: 'round robin; has the "insurance" skill' });
      // Both Spanish speakers; only diego has lab results.
      expect(choose(team, { language: 'es', skill: 'lab-results' })).to.deep.equal({ agentId: 'diego', reason: 'round robin; speaks Spanish; has the "lab-results" skill' });
      // Language first: chiara has the skill but no Spanish, so a Spanish speaker without it is kept.
      const spanishWithoutSkill = team.filter((a) => a.agentId !== 'diego');
      expect(choose(spanishWithoutSkill, { language: 'es', skill: 'insurance' })).to.deep.equal({
        agentId: 'ana', reason: 'round robin; speaks Spanish; nobody available has the "insurance" skill',
      });
    });

    it('treats no language or skill as no preference', () => {
      expect(choose(team, { language: null, skill: null })).to.deep.equal({ agentId: 'bob', reason: 'round robin' });
      expect(choose(team, { language: '', skill: '  ' })).to.deep.equal({ agentId: 'bob', reason: 'round robin' });
    });
  });

  describe('fairness over 1,000 conversations and 7 online agents', () => {
    const ids = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'];

    it('round robin gives every agent the same number, within 1, while conversations resolve at random', () => {
      const random = seededRandom(20260112);
      const agents = ids.map((id) => agent(id));
      const assigned = new Map(ids.map((id) => [id, 0]));
      let now = Date.parse('2026-01-12T08:00:00Z');
      let resolved = 0;
      for (let i = 0; i < 1000; i++) {
        now += 60_000;
        for (const a of agents) {
          for (let open = a.openCount; open > 0; open--) {
            if (random() < 0.3) {
              a.openCount--;
              resolved++;
            }
          }
        }
        const choice = chooseAssignee({ mode: 'round_robin', maxOpenPerAgent: 5, candidates: agents });
        expect(choice, `conversation ${i}`).to.not.equal(null);
        const chosen = agents.find((a) => a.agentId === choice!.agentId)!;
        chosen.openCount++;
        chosen.lastAssignedAt = new Date(now);
        assigned.set(chosen.agentId, assigned.get(chosen.agentId)! + 1);
        expect(spread([...assigned.values()]), `after conversation ${i}`).to.be.at.most(1);
      }
      expect([...assigned.values()].reduce((a, b) => a + b)).to.equal(1000);
      expect(resolved).to.be.greaterThan(900);
    });

    it('least busy keeps open counts within 1 when nothing resolves, then stops at capacity', () => {
      const agents = ids.map((id) => agent(id));
      let now = Date.parse('2026-01-12T08:00:00Z');
      let unassigned = 0;
      for (let i = 0; i < 1000; i++) {
        now += 60_000;
        const choice = chooseAssignee({ mode: 'least_busy', maxOpenPerAgent: 100, candidates: agents });
        if (!choice) {
          unassigned++;
          continue;
        }
        const chosen = agents.find((a) => a.agentId === choice.agentId)!;
        chosen.openCount++;
        chosen.lastAssignedAt = new Date(now);
        expect(spread(agents.map((a) => a.openCount)), `after conversation ${i}`).to.be.at.most(1);
      }
      expect(agents.map((a) => a.openCount)).to.deep.equal(ids.map(() => 100));
      expect(unassigned).to.equal(300);
    });
  });
});

describe('routingSettingsSchema', () => {
  const problem = (body: unknown) => {
    const result = routingSettingsSchema.safeParse(body);
    expect(result.success).to.equal(false);
    const issue = result.error!.issues[0]!;
    return `${issue.path.join('.')}: ${issue.message}`;
  };

  it('fills the defaults: 5 open per agent, escalate after 10 minutes', () => {
    expect(routingSettingsSchema.parse({ mode: 'round_robin' })).to.deep.equal({ mode: 'round_robin', maxOpenPerAgent: 5, escalateAfterMinutes: 10 });
    expect(routingSettingsSchema.parse({ mode: 'least_busy', maxOpenPerAgent: 100, escalateAfterMinutes: 1440 }))
      .to.deep.equal({ mode: 'least_busy', maxOpenPerAgent: 100, escalateAfterMinutes: 1440 });
  });

  it('wants a known mode', () => {
    expect(problem({})).to.match(/^mode: .*"manual"\|"round_robin"\|"least_busy"/);
    expect(problem({ mode: 'random' })).to.match(/^mode: /);
  });

  it('wants whole numbers in range', () => {
    for (const bad of [0, 101, 2.5, '5', null]) expect(problem({ mode: 'manual', maxOpenPerAgent: bad }), String(bad)).to.equal('maxOpenPerAgent: must be a whole number from 1 to 100');
    for (const bad of [0, 1441, 1.5]) expect(problem({ mode: 'manual', escalateAfterMinutes: bad }), String(bad)).to.equal('escalateAfterMinutes: must be a whole number from 1 to 1440');
  });
});

describe('agentProfileSchema', () => {
  const problem = (body: unknown) => {
    const result = agentProfileSchema.safeParse(body);
    expect(result.success).to.equal(false);
    const issue = result.error!.issues[0]!;
    return `${issue.path.join('.')}: ${issue.message}`;
  };

  it('takes any one field, or all', () => {
    expect(agentProfileSchema.parse({ status: 'away' })).to.deep.equal({ status: 'away' });
    expect(agentProfileSchema.parse({ languages: [] })).to.deep.equal({ languages: [] });
    expect(agentProfileSchema.parse({ status: 'online', languages: ['es'], skills: ['lab-results', 'insurance'] }))
      .to.deep.equal({ status: 'online', languages: ['es'], skills: ['lab-results', 'insurance'] });
  });

  it('wants at least one field, and says which', () => {
    expect(problem({})).to.equal(': give at least one of status, languages, skills');
    expect(problem({ language: ['es'] })).to.equal(': give at least one of status, languages, skills');
  });

  it('wants a known status', () => {
    expect(problem({ status: 'busy' })).to.match(/^status: .*"online"\|"away"\|"offline"/);
  });

  it('lowercases language codes, lists each once, and wants 2 or 3 letters, at most 10', () => {
    expect(agentProfileSchema.parse({ languages: ['ES', ' it ', 'es', 'fil'] })).to.deep.equal({ languages: ['es', 'it', 'fil'] });
    for (const bad of ['e', 'span', 'es-MX', '12', '']) expect(problem({ languages: [bad] }), bad).to.equal('languages.0: must be a 2 or 3 letter language code like "es"');
    expect(problem({ languages: Array.from({ length: 11 }, () => 'es') })).to.equal('languages: at most 10 languages');
  });

  it('wants skills as lowercase slugs of 1 to 40 characters, at most 20', () => {
    expect(agentProfileSchema.parse({ skills: ['x', 'lab-results', 'icd-10', 'lab-results'] })).to.deep.equal({ skills: ['x', 'lab-results', 'icd-10'] });
    for (const bad of ['Insurance', 'lab results', 'lab_results', '-lab', 'lab-', 'lab--results', 'café']) {
      expect(problem({ skills: [bad] }), bad).to.equal('skills.0: must be a lowercase slug (a-z, 0-9, hyphens between) like "lab-results"');
    }
    expect(problem({ skills: [''] })).to.equal('skills.0: must be 1 to 40 characters');
    expect(agentProfileSchema.safeParse({ skills: ['a'.repeat(40)] }).success).to.equal(true);
    expect(problem({ skills: ['a'.repeat(41)] })).to.equal('skills.0: must be 1 to 40 characters');
    expect(problem({ skills: Array.from({ length: 21 }, (_, i) => `s${i}`) })).to.equal('skills: at most 20 skills');
  });
});

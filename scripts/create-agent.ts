/**
 * `npm run agent:create -- --email jo@clinic.example --name "Jo Lee" --role agent --team front-desk --team billing`
 *
 * Creates an agent account in the hub's database (the embedded FerretDB under
 * DATA_DIR unless MONGODB_URI is set; stop the hub first when it uses the
 * embedded database). The password comes from AGENT_PASSWORD, or is asked for
 * (twice, without echo) when stdin is a terminal.
 */
import { parseArgs } from 'node:util';
import { createAgent, DEFAULT_TEAM, ensureTeam, newAgentSchema, type NewAgent } from '../server/auth/agent-directory.ts';
import { MIN_PASSWORD_LENGTH } from '../server/auth/passwords.ts';
import { ConfigError, loadConfig, type Config } from '../server/config.ts';
import { connectDatabase, type Database } from '../server/db/connect.ts';
import { startHubStore, type HubStore } from '../server/db/hub-store.ts';
import { AppError } from '../server/errors.ts';

const USAGE = `Usage: npm run agent:create -- --email <email> --name <name> [--role agent|supervisor|admin] [--team <id>]...

  --email   the agent's sign-in email (required)
  --name    the name shown to colleagues (required)
  --role    agent (default), supervisor or admin
  --team    a team id, repeatable (default: ${DEFAULT_TEAM.id}); the team must exist

The password is read from AGENT_PASSWORD, or asked for when run in a terminal
(at least ${MIN_PASSWORD_LENGTH} characters).`;

/** A mistake of the caller's: printed without a stack, exit code 1. */
class UsageError extends Error {
  constructor(message: string, readonly showUsage = false) {
    super(message);
  }
}

async function main(): Promise<number> {
  let input: NewAgent;
  let config: Config;
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        email: { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string', default: 'agent' },
        team: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (!values.email) throw new UsageError('--email is required', true);
    if (!values.name) throw new UsageError('--name is required', true);
    config = loadConfig();
    input = {
      email: values.email,
      name: values.name,
      role: values.role as NewAgent['role'],
      ...(values.team?.length ? { teamIds: values.team } : {}),
      password: '',
    };
    // Check everything but the teams before asking for a password or starting a database.
    check(newAgentSchema.omit({ password: true }).safeParse(input));
    input.password = await readPassword();
    check(newAgentSchema.safeParse(input));
  } catch (error) {
    const parseError = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ?? false;
    if (error instanceof UsageError || parseError) {
      const usage = parseError || (error as UsageError).showUsage ? `\n\n${USAGE}` : '';
      console.error(`agent:create: ${(error as Error).message}${usage}`);
      return 1;
    }
    if (error instanceof ConfigError) {
      console.error(`agent:create cannot start.\n${error.message}`);
      return 1;
    }
    throw error;
  }

  let store: HubStore | undefined;
  let db: Database | undefined;
  try {
    store = await startHubStore(config);
    db = await connectDatabase(store.uri, config.databaseName);
    const now = new Date();
    // The hub creates the default team at start; a fresh database may not have it yet.
    await ensureTeam(db.models, DEFAULT_TEAM.id, DEFAULT_TEAM.name, now);
    const agent = await createAgent(db.models, input, now);
    console.log(`Created ${agent.role} ${agent.email} (id ${agent._id}), teams: ${agent.teamIds.join(', ')}`);
    return 0;
  } catch (error) {
    if (error instanceof AppError) {
      console.error(`agent:create: ${error.message}`);
      return 1;
    }
    console.error(`agent:create failed: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    await db?.close().catch(() => {});
    await store?.stop();
  }
}

function check(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }): void {
  const issue = result.error?.issues[0];
  if (!result.success && issue) throw new UsageError(`${issue.path.map(String).join('.')}: ${issue.message}`);
}

async function readPassword(): Promise<string> {
  const fromEnv = process.env.AGENT_PASSWORD;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new UsageError('no password: set AGENT_PASSWORD, or run in a terminal to be asked for one');
  }
  const first = await promptHidden('Password: ');
  if (first.length < MIN_PASSWORD_LENGTH) throw new UsageError(`the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  const second = await promptHidden('Repeat password: ');
  if (first !== second) throw new UsageError('the passwords do not match');
  return first;
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let value = '';
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') return done();
        if (char === '\u0003') return done(new UsageError('cancelled'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else if (char >= ' ') value += char;
      }
    };
    stdin.on('data', onData);
  });
}

process.exit(await main());

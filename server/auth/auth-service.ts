/**
 * Agent authentication: login with throttling, short-lived JWT access tokens
 * tied to a server-side session, rotating refresh tokens, logout.
 *
 * A refresh token is `<sessionId>.<secret>`; only its hash is stored. Rotation
 * is a compare-and-set on that hash, so a refresh token works once; presenting
 * an old one again revokes the whole session (it was stolen or replayed).
 */
import { countInWindow, windowCount } from '../db/rate-limits.ts';
import { createHash, createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { AuditLog } from '../audit/audit-log.ts';
import type { PhiCipher } from '../crypto/phi-cipher.ts';
import type { Actor } from '../access/access-policy.ts';
import type { AgentDoc, SessionDoc } from '../db/documents.ts';
import type { Models } from '../db/models.ts';
import type { DocumentLocks } from '../db/document-locks.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../timeline/timeline-context.ts';
import { burnPasswordCheck, verifyPassword } from './passwords.ts';
import { acceptTotp } from './totp.ts';

export interface AuthSettings {
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlMs: number;
  /** Automatic logoff: a session with no authenticated request for this long ends. */
  idleTimeoutMs: number;
  /** Failed logins from one IP in an hour before it must wait (password spraying across accounts). */
  loginFailuresPerIpPerHour: number;
}

/** Where a request came from, for the audit trail. */
export interface RequestOrigin {
  ip?: string | null;
  via: 'rest' | 'socket';
}

/** Session activity is written at most this often, not on every request. */
const ACTIVITY_WRITE_INTERVAL_MS = 30_000;

export interface LoginResult {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  agent: { id: string; email: string; name: string; role: AgentDoc['role']; teamIds: string[] };
}

const FREE_FAILURES = 5;
const MAX_LOCK_MS = 15 * 60_000;
const ISSUER = 'carethread';

/** How many earlier refresh secrets a session remembers, to recognize a replayed one. */
const RETIRED_REFRESH_HASHES = 20;
const HOUR_MS = 3600_000;

export class AuthService {
  constructor(
    private readonly models: Models,
    private readonly locks: DocumentLocks,
    private readonly settings: AuthSettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly audit: AuditLog,
    private readonly cipher: PhiCipher,
  ) {
    this.signingKey = createSecretKey(Buffer.from(settings.jwtSecret, 'utf8'));
  }

  /**
   * JWT_SECRET as a KeyObject: given a string, jsonwebtoken first tries to read it as a PEM key and fails, on every
   * token (about 0.45 ms each, measured; every API call and socket handshake verifies one); a secret KeyObject goes
   * straight to the HMAC (about 0.02 ms). The same bytes, so tokens are unchanged.
   */
  private readonly signingKey: KeyObject;

  async login(emailInput: string, password: string, origin: RequestOrigin & { totp?: string | undefined }): Promise<LoginResult> {
    const email = emailInput.trim().toLowerCase();
    const throttleKey = createHmac('sha256', this.settings.jwtSecret).update(`login:${email}`).digest('base64url');
    const ipKey = `login-failures:ip:${createHmac('sha256', this.settings.jwtSecret).update(`ip:${origin.ip ?? ''}`).digest('base64url').slice(0, 22)}`;
    try {
      await this.refuseWhileLocked(throttleKey);
      await this.refuseBusyNetwork(ipKey);
    } catch (error) {
      await this.audit.record({ action: 'login.locked', via: origin.via, ip: origin.ip, outcome: 'denied' });
      throw error;
    }
    const agent = await this.models.Agent.findOne({ email }).lean();
    const ok = agent && !agent.disabledAt ? await verifyPassword(agent.passwordHash, password) : (await burnPasswordCheck(password), false);
    if (ok && agent?.totpEnabledAt && !origin.totp) {
      throw new AppError('TOTP_REQUIRED', 'Enter the 6-digit code from your authenticator app', { field: 'totp' });
    }
    // Checked only with the right password, so a wrong password never uses up a code.
    const secondFactorOk = !agent?.totpEnabledAt || (ok && origin.totp !== undefined && (await acceptTotp(this.models, this.cipher, agent, origin.totp, this.clock())));
    if (!ok || !agent || !secondFactorOk) {
      await this.recordFailure(throttleKey);
      await countInWindow(this.models, ipKey, HOUR_MS, this.clock());
      await this.audit.record({
        action: 'login.failed', via: origin.via, ip: origin.ip, outcome: 'failure',
        actor: agent ? { agentId: agent._id, role: agent.role } : null,
      });
      this.logger.warn({ event: 'login_failed' }, 'login failed');
      throw new AppError('INVALID_CREDENTIALS', 'Email or password is not correct');
    }
    await this.models.LoginThrottle.deleteOne({ _id: throttleKey });
    const now = this.clock();
    const sessionId = randomBytes(16).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    await this.models.Session.create({
      _id: sessionId,
      agentId: agent._id,
      refreshHash: hashSecret(secret),
      expiresAt: new Date(now.getTime() + this.settings.refreshTokenTtlMs),
      revokedAt: null,
      revokedReason: null,
      createdAt: now,
      lastRefreshAt: now,
      lastActivityAt: now,
    });
    this.logger.info({ event: 'login', agentId: agent._id, sessionId }, 'agent logged in');
    await this.audit.record({ action: 'login', via: origin.via, ip: origin.ip, actor: { agentId: agent._id, role: agent.role, sessionId } });
    return this.issue(agent, sessionId, secret);
  }

  async refresh(refreshToken: string, origin: RequestOrigin): Promise<LoginResult> {
    const [sessionId, secret] = splitRefreshToken(refreshToken);
    const now = this.clock();
    await this.endIfIdle(sessionId, now);
    const newSecret = randomBytes(32).toString('base64url');
    const presented = hashSecret(secret);
    const { session, known } = await this.locks.run(`session:${sessionId}`, async () => {
      const current = await this.models.Session.findById(sessionId).lean();
      if (!current || current.refreshHash !== presented || current.revokedAt || new Date(current.expiresAt) <= now) return { session: null, known: current };
      const retired = [...(current.retiredRefreshHashes ?? []), current.refreshHash].slice(-RETIRED_REFRESH_HASHES);
      const rotated = await this.models.Session.findOneAndUpdate(
        { _id: sessionId, refreshHash: presented, revokedAt: null },
        { $set: { refreshHash: hashSecret(newSecret), lastRefreshAt: now, retiredRefreshHashes: retired } },
        { returnDocument: 'after', lean: true },
      );
      return { session: rotated, known: current };
    });
    if (!session) {
      // Only a secret this session really had before proves theft; a made-up one must not let anyone end someone's session.
      if (known && !known.revokedAt && (known.retiredRefreshHashes ?? []).includes(presented)) {
        await this.revoke(sessionId, 'refresh_token_reused');
        await this.audit.record({
          action: 'token.reuse', via: origin.via, ip: origin.ip, outcome: 'denied', flagged: true,
          actor: { agentId: known.agentId, role: 'unknown', sessionId },
        });
        this.logger.warn({ event: 'refresh_token_reused', sessionId }, 'refresh token reused; session revoked');
      }
      const idle = known?.revokedReason === 'idle_timeout';
      throw new AppError('SESSION_REVOKED', idle ? 'You were logged out after a period of inactivity; log in again' : 'This session has ended; log in again');
    }
    const agent = await this.activeAgent(session.agentId);
    await this.audit.record({ action: 'token.refresh', via: origin.via, ip: origin.ip, actor: { agentId: agent._id, role: agent.role, sessionId } });
    return this.issue(agent, sessionId, newSecret);
  }

  async logout(actor: Actor, origin: RequestOrigin): Promise<void> {
    await this.revoke(actor.sessionId, 'logout');
    await this.audit.record({ action: 'logout', via: origin.via, ip: origin.ip, actor });
    this.logger.info({ event: 'logout', agentId: actor.agentId, sessionId: actor.sessionId }, 'agent logged out');
  }

  async revoke(sessionId: string, reason: string): Promise<void> {
    await this.locks.run(`session:${sessionId}`, () =>
      this.models.Session.updateOne({ _id: sessionId, revokedAt: null }, { $set: { revokedAt: this.clock(), revokedReason: reason } }),
    );
  }

  /** Ends every live session of an agent (disabled account, password reset). */
  async revokeAllFor(agentId: string, reason: string, exceptSessionId?: string): Promise<string[]> {
    const sessions = (await this.models.Session.find({ agentId, revokedAt: null }, { _id: 1 }).lean()).filter((s) => s._id !== exceptSessionId);
    for (const s of sessions) await this.revoke(s._id, reason);
    return sessions.map((s) => s._id);
  }

  /**
   * Whether a session may still act, without counting this as activity
   * (the socket layer re-checks live connections with it).
   */
  async isSessionLive(sessionId: string, agentId: string): Promise<boolean> {
    const now = this.clock();
    await this.endIfIdle(sessionId, now);
    const session = await this.models.Session.findById(sessionId).lean();
    if (!session || session.revokedAt || session.expiresAt <= now || session.agentId !== agentId) return false;
    const agent = await this.models.Agent.findById(agentId).lean();
    return Boolean(agent && !agent.disabledAt);
  }

  /** Of these connected sessions, the ones still live (idle ones are ended here). Two queries for any number. */
  /** The sessions still live; `endedBecause` (when given) learns why each other one ended (idle_timeout, revoked, expired, account_disabled). */
  async liveSessions(connected: { sessionId: string; agentId: string }[], endedBecause?: Map<string, string>): Promise<Set<string>> {
    const now = this.clock();
    const ids = [...new Set(connected.map((c) => c.sessionId))];
    const sessions = await this.models.Session.find({ _id: { $in: ids } }).lean();
    const agents = await this.models.Agent.find({ _id: { $in: [...new Set(sessions.map((s) => s.agentId))] } }, { disabledAt: 1 }).lean();
    const activeAgents = new Set(agents.filter((a) => !a.disabledAt).map((a) => a._id));
    const live = new Set<string>();
    for (const session of sessions) {
      const ended = session.revokedAt
        ? (session.revokedReason ?? 'revoked')
        : session.expiresAt <= now ? 'expired' : !activeAgents.has(session.agentId) ? 'account_disabled' : null;
      if (ended) {
        endedBecause?.set(session._id, ended);
        continue;
      }
      if (this.isIdle(session, now)) {
        await this.endIfIdle(session._id, now);
        endedBecause?.set(session._id, 'idle_timeout');
        continue;
      }
      live.add(session._id);
    }
    return live;
  }

  private isIdle(session: Pick<SessionDoc, 'lastActivityAt'>, now: Date): boolean {
    return now.getTime() - new Date(session.lastActivityAt).getTime() > this.settings.idleTimeoutMs;
  }

  private async endIfIdle(sessionId: string, now: Date): Promise<void> {
    const session = await this.models.Session.findById(sessionId, { lastActivityAt: 1, revokedAt: 1, agentId: 1 }).lean();
    if (!session || session.revokedAt) return;
    if (this.isIdle(session, now)) {
      await this.revoke(sessionId, 'idle_timeout');
      await this.audit.record({ action: 'session.revoked', via: 'rest', actor: { agentId: session.agentId, role: 'unknown', sessionId }, details: { reason: 'idle_timeout' } });
    }
  }

  /**
   * Checks an access token and that its session and agent are still live. Used
   * by REST and sockets; `touch` counts the request as the agent's activity.
   */
  async authenticate(accessToken: string, options: { touch: boolean } = { touch: true }): Promise<Actor> {
    let claims: { sub: string; sid: string };
    try {
      claims = jwt.verify(accessToken, this.signingKey, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        clockTimestamp: Math.floor(this.clock().getTime() / 1000),
      }) as { sub: string; sid: string };
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw new AppError('TOKEN_EXPIRED', 'The access token has expired; refresh it');
      throw new AppError('UNAUTHENTICATED', 'The access token is not valid');
    }
    const now = this.clock();
    let session: SessionDoc | null = await this.models.Session.findById(claims.sid).lean();
    if (session && !session.revokedAt && this.isIdle(session, now)) {
      await this.endIfIdle(session._id, now);
      session = await this.models.Session.findById(claims.sid).lean();
    }
    if (!session || session.revokedAt || session.agentId !== claims.sub || session.expiresAt <= now) {
      const idle = session?.revokedReason === 'idle_timeout';
      throw new AppError('SESSION_REVOKED', idle ? 'You were logged out after a period of inactivity; log in again' : 'This session has ended; log in again');
    }
    if (options.touch && now.getTime() - new Date(session.lastActivityAt).getTime() > ACTIVITY_WRITE_INTERVAL_MS) {
      await this.models.Session.updateOne({ _id: session._id, revokedAt: null }, { $set: { lastActivityAt: now } });
    }
    const agent = await this.activeAgent(claims.sub);
    return { agentId: agent._id, role: agent.role, teamIds: agent.teamIds, sessionId: session._id };
  }

  private async activeAgent(agentId: string): Promise<AgentDoc> {
    const agent = await this.models.Agent.findById(agentId).lean();
    if (!agent || agent.disabledAt) throw new AppError('SESSION_REVOKED', 'This account is disabled');
    return agent;
  }

  private issue(agent: AgentDoc, sessionId: string, secret: string): LoginResult {
    // iat comes from the injected clock, so expiry is testable without waiting.
    const iat = Math.floor(this.clock().getTime() / 1000);
    const accessToken = jwt.sign({ sid: sessionId, role: agent.role, iat }, this.signingKey, {
      algorithm: 'HS256',
      subject: agent._id,
      issuer: ISSUER,
      expiresIn: this.settings.accessTokenTtlSeconds,
    });
    return {
      accessToken,
      refreshToken: `${sessionId}.${secret}`,
      expiresIn: this.settings.accessTokenTtlSeconds,
      agent: { id: agent._id, email: agent.email, name: agent.name, role: agent.role, teamIds: agent.teamIds },
    };
  }

  private async refuseWhileLocked(key: string): Promise<void> {
    const entry = await this.models.LoginThrottle.findById(key).lean();
    const now = this.clock().getTime();
    if (entry?.lockedUntil && entry.lockedUntil.getTime() > now) {
      const retryAfterSeconds = Math.ceil((entry.lockedUntil.getTime() - now) / 1000);
      throw new AppError('TOO_MANY_ATTEMPTS', `Too many failed logins; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
    }
  }

  /** One network trying many accounts (spraying) is stopped even when no single account reaches its lockout. */
  private async refuseBusyNetwork(ipKey: string): Promise<void> {
    const now = this.clock();
    const { count, endsAt } = await windowCount(this.models, ipKey, HOUR_MS, now);
    if (count >= this.settings.loginFailuresPerIpPerHour) {
      const retryAfterSeconds = Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000));
      throw new AppError('TOO_MANY_ATTEMPTS', `Too many failed logins from this network; try again in ${Math.ceil(retryAfterSeconds / 60)} minutes`, { retryAfterSeconds });
    }
  }

  /** Each failure past the first five doubles the lockout, up to 15 minutes. */
  private recordFailure(key: string): Promise<void> {
    return this.locks.run(`login:${key}`, () => this.countFailure(key));
  }

  private async countFailure(key: string): Promise<void> {
    const now = this.clock();
    const entry = await this.models.LoginThrottle.findOneAndUpdate(
      { _id: key },
      { $inc: { failures: 1 }, $set: { lastFailureAt: now } },
      { upsert: true, returnDocument: 'after', lean: true },
    ).orFail();
    if (entry.failures >= FREE_FAILURES) {
      const lockMs = Math.min(1000 * 2 ** (entry.failures - FREE_FAILURES + 2), MAX_LOCK_MS);
      // $max: of two failures counted at once (two nodes), the later lock stands, whichever write lands last.
      await this.models.LoginThrottle.updateOne({ _id: key }, { $max: { lockedUntil: new Date(now.getTime() + lockMs) } });
    }
  }
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

function splitRefreshToken(token: string): [string, string] {
  const [sessionId, secret, extra] = token.split('.');
  // Refresh secrets are 32 random bytes in base64url (43 characters).
  if (!sessionId || !secret || extra !== undefined || secret.length !== 43) {
    throw new AppError('SESSION_REVOKED', 'This refresh token is not valid; log in again');
  }
  return [sessionId, secret];
}

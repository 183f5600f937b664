/**
 * Agent authentication: login with throttling, short-lived JWT access tokens
 * tied to a server-side session, rotating refresh tokens, logout.
 *
 * A refresh token is `<sessionId>.<secret>`; only its hash is stored. Rotation
 * is a compare-and-set on that hash, so a refresh token works once; presenting
 * an old one again revokes the whole session (it was stolen or replayed).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Actor } from '../access/access-policy.ts';
import type { AgentDoc, SessionDoc } from '../db/documents.ts';
import type { Models } from '../db/models.ts';
import type { DocumentLocks } from '../db/document-locks.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../timeline/timeline-context.ts';
import { burnPasswordCheck, verifyPassword } from './passwords.ts';

export interface AuthSettings {
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlMs: number;
}

export interface LoginResult {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  agent: { id: string; email: string; name: string; role: AgentDoc['role']; teamIds: string[] };
}

const FREE_FAILURES = 5;
const MAX_LOCK_MS = 15 * 60_000;
const ISSUER = 'carethread';

export class AuthService {
  constructor(
    private readonly models: Models,
    private readonly locks: DocumentLocks,
    private readonly settings: AuthSettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async login(emailInput: string, password: string): Promise<LoginResult> {
    const email = emailInput.trim().toLowerCase();
    const throttleKey = createHmac('sha256', this.settings.jwtSecret).update(`login:${email}`).digest('base64url');
    await this.refuseWhileLocked(throttleKey);
    const agent = await this.models.Agent.findOne({ email }).lean();
    const ok = agent && !agent.disabledAt ? await verifyPassword(agent.passwordHash, password) : (await burnPasswordCheck(password), false);
    if (!ok || !agent) {
      await this.recordFailure(throttleKey);
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
    });
    this.logger.info({ event: 'login', agentId: agent._id, sessionId }, 'agent logged in');
    return this.issue(agent, sessionId, secret);
  }

  async refresh(refreshToken: string): Promise<LoginResult> {
    const [sessionId, secret] = splitRefreshToken(refreshToken);
    const now = this.clock();
    const newSecret = randomBytes(32).toString('base64url');
    const session = await this.locks.run(`session:${sessionId}`, () =>
      this.models.Session.findOneAndUpdate(
        { _id: sessionId, refreshHash: hashSecret(secret), revokedAt: null, expiresAt: { $gt: now } },
        { $set: { refreshHash: hashSecret(newSecret), lastRefreshAt: now } },
        { returnDocument: 'after', lean: true },
      ),
    );
    if (!session) {
      const known = await this.models.Session.findById(sessionId).lean();
      if (known && !known.revokedAt) {
        await this.revoke(sessionId, 'refresh_token_reused');
        this.logger.warn({ event: 'refresh_token_reused', sessionId }, 'refresh token reused; session revoked');
      }
      throw new AppError('SESSION_REVOKED', 'This session has ended; log in again');
    }
    const agent = await this.activeAgent(session.agentId);
    return this.issue(agent, sessionId, newSecret);
  }

  async logout(actor: Actor): Promise<void> {
    await this.revoke(actor.sessionId, 'logout');
    this.logger.info({ event: 'logout', agentId: actor.agentId, sessionId: actor.sessionId }, 'agent logged out');
  }

  async revoke(sessionId: string, reason: string): Promise<void> {
    await this.models.Session.updateOne({ _id: sessionId, revokedAt: null }, { $set: { revokedAt: this.clock(), revokedReason: reason } });
  }

  /** Checks an access token and that its session and agent are still live. Used by REST and sockets. */
  async authenticate(accessToken: string): Promise<Actor> {
    let claims: { sub: string; sid: string };
    try {
      claims = jwt.verify(accessToken, this.settings.jwtSecret, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        clockTimestamp: Math.floor(this.clock().getTime() / 1000),
      }) as { sub: string; sid: string };
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw new AppError('TOKEN_EXPIRED', 'The access token has expired; refresh it');
      throw new AppError('UNAUTHENTICATED', 'The access token is not valid');
    }
    const session: SessionDoc | null = await this.models.Session.findById(claims.sid).lean();
    if (!session || session.revokedAt || session.agentId !== claims.sub || session.expiresAt <= this.clock()) {
      throw new AppError('SESSION_REVOKED', 'This session has ended; log in again');
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
    const accessToken = jwt.sign({ sid: sessionId, role: agent.role, iat }, this.settings.jwtSecret, {
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
      await this.models.LoginThrottle.updateOne({ _id: key }, { $set: { lockedUntil: new Date(now.getTime() + lockMs) } });
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

/**
 * Pages the hub serves to patients itself:
 * - GET /m/:token, where a PHI-safe notification's link lands. It shows no
 *   PHI; a valid link leads to /widget/verify, an altered or expired one gets 404.
 * - GET /widget/verify?link=…, the secure chat for that link: the widget, open,
 *   where the patient proves the phone or email we wrote to with a one-time
 *   code and then reads the thread. The link alone never shows a message.
 * - GET /chat, the same full-page chat for clinics to link to (or try locally).
 */
import { z } from 'zod';
import type { SecureMessageLinks } from '../../delivery/secure-message-links.ts';
import { defineRoute } from '../route.ts';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function secureLinkRoutes(links: SecureMessageLinks, clinicName: string) {
  const clinic = escapeHtml(clinicName);
  return [
    defineRoute({
      method: 'get', path: '/chat', tag: 'patients', auth: 'public',
      summary: 'A full-page patient chat hosted by the hub (the widget, open)',
      responses: { 200: { description: 'HTML page' } },
      handler: async ({ res }) => {
        res.type('html').set('Cache-Control', 'no-store').status(200).send(page(clinic, 'Write to our care team here.', 'chat'));
        return undefined;
      },
    }),
    defineRoute({
      method: 'get', path: '/widget/verify', tag: 'patients', auth: 'public',
      summary: 'The secure chat a PHI-safe notification leads to: confirm the phone or email with a code, then read',
      query: z.object({ link: z.string().min(10).max(600) }),
      responses: { 200: { description: 'HTML page' }, 404: { description: 'Altered or expired link' } },
      handler: async ({ query, res }) => {
        res.type('html').set('Cache-Control', 'no-store');
        if (!links.verify(query.link)) {
          res.status(404).send(page(clinic, 'This link has expired or is not valid. Please contact the clinic.'));
          return undefined;
        }
        res.status(200).send(page(clinic,
          'To read your secure message, choose “Continue by text message” or “Continue by email” in the chat and enter the number or address we wrote to. We will send you a code to confirm it is you.', 'chat'));
        return undefined;
      },
    }),
    defineRoute({
      method: 'get', path: '/m/:token', tag: 'patients', auth: 'public',
      summary: 'Landing page of a PHI-safe notification link (no PHI shown; 404 when altered or expired)',
      params: z.object({ token: z.string().min(10).max(600) }),
      responses: { 200: { description: 'HTML page' }, 404: { description: 'Altered or expired link' } },
      handler: async ({ params, res }) => {
        const target = links.verify(params.token);
        res.type('html').set('Cache-Control', 'no-store');
        if (!target) {
          res.status(404).send(page(clinic, 'This link has expired or is not valid. Please contact the clinic.'));
          return undefined;
        }
        res.status(200).send(page(clinic, 'You have a secure message. To read it, open the secure chat and confirm it is you.', { link: params.token }));
        return undefined;
      },
    }),
  ];
}

/** One small page; `then` is what follows the text: a link to the secure chat, or the widget itself (open). */
function page(clinic: string, text: string, then: { link: string } | 'chat' | null = null): string {
  const after =
    then === 'chat'
      ? '<script src="/widget.js" data-open="true" async></script>'
      : then
        ? `<p><a href="/widget/verify?link=${encodeURIComponent(then.link)}">Open the secure chat</a></p>`
        : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${clinic}</title></head><body><h1>${clinic}</h1><p>${text}</p>${after}</body></html>`;
}

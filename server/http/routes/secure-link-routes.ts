/**
 * GET /m/:token: where a PHI-safe notification's link lands. It shows no
 * PHI; a valid link hands the patient to the web chat's verification
 * (/widget, issue 7), an altered or expired one gets 404.
 */
import { z } from 'zod';
import type { SecureMessageLinks } from '../../delivery/secure-message-links.ts';
import { defineRoute } from '../route.ts';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function secureLinkRoutes(links: SecureMessageLinks, clinicName: string) {
  return [
    defineRoute({
      method: 'get', path: '/m/:token', tag: 'patients', auth: 'public',
      summary: 'Landing page of a PHI-safe notification link (no PHI shown; 404 when altered or expired)',
      params: z.object({ token: z.string().min(10).max(600) }),
      responses: { 200: { description: 'HTML page' }, 404: { description: 'Altered or expired link' } },
      handler: async ({ params, res }) => {
        const target = links.verify(params.token);
        const clinic = escapeHtml(clinicName);
        res.type('html').set('Cache-Control', 'no-store');
        if (!target) {
          res.status(404).send(page(clinic, 'This link has expired or is not valid. Please contact the clinic.'));
          return undefined;
        }
        res.status(200).send(page(clinic, 'You have a secure message. To read it, open the secure chat and confirm it is you.', params.token));
        return undefined;
      },
    }),
  ];
}

function page(clinic: string, text: string, token?: string): string {
  const action = token ? `<p><a href="/widget/verify?link=${encodeURIComponent(token)}">Open the secure chat</a></p>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${clinic}: secure message</title></head><body><h1>${clinic}</h1><p>${text}</p>${action}</body></html>`;
}

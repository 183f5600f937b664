/** The after-hours answer, in the patient's language: when the team reopens, and what to do if it is urgent. No PHI. */
export function afterHoursReply(language: 'en' | 'es' | 'it', facts: { clinic: string | null; reopens: string | null; urgentLine: string | null }): string {
  const { clinic, reopens, urgentLine } = facts;
  switch (language) {
    case 'es':
      return [
        `${clinic ? `${clinic}: ` : ''}Gracias por su mensaje. Estamos cerrados ahora${reopens ? ` y volvemos a abrir ${reopens}` : ''}; le responderemos entonces.`,
        `Si es urgente, llame a ${urgentLine ? `nuestra línea de urgencias, ${urgentLine}` : 'su médico'}. En una emergencia, llame al 911.`,
      ].join(' ');
    case 'it':
      return [
        `${clinic ? `${clinic}: ` : ''}Grazie per il messaggio. Ora siamo chiusi${reopens ? ` e riapriamo ${reopens}` : ''}; le risponderemo allora.`,
        `Se è urgente, chiami ${urgentLine ? `la nostra linea urgente, ${urgentLine}` : 'il suo medico'}. In un'emergenza, chiami il 911.`,
      ].join(' ');
    default:
      return [
        `${clinic ? `${clinic}: ` : ''}Thanks for your message. We are closed now${reopens ? ` and open again ${reopens}` : ''}; we will answer then.`,
        `If it is urgent, call ${urgentLine ? `our urgent line, ${urgentLine}` : 'your doctor'}. In an emergency, call 911.`,
      ].join(' ');
  }
}

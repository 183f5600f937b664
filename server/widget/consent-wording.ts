/**
 * The consent text beside the widget's checkboxes, per language. The hub
 * sends it to the widget and stores exactly this text with the consent, so
 * the record shows what the patient agreed to (TCPA express consent for SMS).
 */
import type { WidgetLanguage } from '../realtime/widget-events.ts';

export function consentWording(clinicName: string): Record<WidgetLanguage, { sms: string; email: string }> {
  return {
    en: {
      sms: `I agree to receive text messages from ${clinicName} about my care at the number I give. Message and data rates may apply. Reply STOP to stop, HELP for help.`,
      email: `I agree to receive emails from ${clinicName} about my care at the address I give.`,
    },
    es: {
      sms: `Acepto recibir mensajes de texto de ${clinicName} sobre mi atención en el número que indico. Pueden aplicarse tarifas de mensajes y datos. Responda STOP para dejar de recibirlos, HELP para obtener ayuda.`,
      email: `Acepto recibir correos electrónicos de ${clinicName} sobre mi atención en la dirección que indico.`,
    },
    it: {
      sms: `Accetto di ricevere SMS da ${clinicName} sulle mie cure al numero che indico. Potrebbero essere applicati costi per messaggi e dati. Rispondi STOP per non riceverli più, HELP per assistenza.`,
      email: `Accetto di ricevere email da ${clinicName} sulle mie cure all'indirizzo che indico.`,
    },
  };
}

/** The one-time code message, in the visitor's language. No PHI: the code and the clinic's name only. */
export function verificationText(clinicName: string, code: string, minutes: number, language: WidgetLanguage): { body: string; subject: string } {
  switch (language) {
    case 'es':
      return {
        subject: `Su código de verificación de ${clinicName}`,
        body: `${clinicName}: su código de verificación es ${code}. Caduca en ${minutes} minutos. Si no lo ha pedido, ignore este mensaje.`,
      };
    case 'it':
      return {
        subject: `Il tuo codice di verifica di ${clinicName}`,
        body: `${clinicName}: il tuo codice di verifica è ${code}. Scade tra ${minutes} minuti. Se non l'hai richiesto, ignora questo messaggio.`,
      };
    default:
      return {
        subject: `Your ${clinicName} verification code`,
        body: `${clinicName}: your verification code is ${code}. It expires in ${minutes} minutes. If you did not ask for it, ignore this message.`,
      };
  }
}

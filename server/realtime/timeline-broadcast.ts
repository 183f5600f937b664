/** The timeline announces each stored change once; every realtime audience (agents, patients' widgets) hears it. */
import type { TimelineEvents } from '../timeline/timeline-context.ts';

/** `audiences` is read at each event, so an audience built after the timeline can join it. */
export function broadcastTimelineEvents(audiences: readonly TimelineEvents[]): TimelineEvents {
  return {
    messageCreated: (message, conversation) => audiences.forEach((a) => a.messageCreated(message, conversation)),
    messageUpdated: (message, conversation) => audiences.forEach((a) => a.messageUpdated(message, conversation)),
    conversationUpdated: (conversation) => audiences.forEach((a) => a.conversationUpdated(conversation)),
    conversationMerged: (fromId, into) => audiences.forEach((a) => a.conversationMerged(fromId, into)),
  };
}

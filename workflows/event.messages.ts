import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { AttendanceInput, EventChangeInput, EventSchedule, RsvpInput } from '../activities/event.js';
import type { TimeCompression } from '../domain/compressed-time.js';

/**
 * A showcase event's contract (workflow `eventWorkflow`, id `event-<eventId>`): its input, its stages, and the
 * Updates and Query the API sends it. It holds no workflow code.
 */

/** What starts an event workflow: one per event, when staff create it. */
export interface EventInput {
  eventId: string;
  /** The start as created (ISO); moves come later through `changeEvent`. */
  startsAt: string;
  compression?: TimeCompression | undefined;
}

/** Where the event stands; the `Stage` search attribute carries it as `event_<stage>`. */
export type EventStage = 'inviting' | 'scheduled' | 'awaiting_attendance' | 'closed' | 'cancelled';

/** The event's state, answered by `getEvent` and returned when the workflow ends. */
export interface EventMemory {
  stage: EventStage;
  schedule: EventSchedule | undefined;
  /**
   * Reminders sent, as `<reminder day>/<daysBefore>`: a move to another day brings new reminders; a move within
   * the same day (a new hour, a new hall) does not send them again.
   */
  remindersSent: string[];
}

/** A presenter's answer as the API sends it (the workflow adds the event's id). */
export type RsvpRequest = Omit<RsvpInput, 'eventId'>;
/** Staff's move or cancellation as the API sends it (the workflow adds the event's and its own id). */
export type EventChangeRequest = Omit<EventChangeInput, 'eventId' | 'workflowId'>;
/** Staff's attendance record as the API sends it (the workflow adds the event's and its own id). */
export type AttendanceRequest = Omit<AttendanceInput, 'eventId' | 'workflowId'>;

/** The event's state. */
export const getEventQuery = defineQuery<EventMemory>('getEvent');
/** A presenter confirms or declines (judged by the receipt time the API stamped against the start). */
export const rsvpUpdate = defineUpdate<{ status: 'confirmed' | 'declined' }, [RsvpRequest]>('rsvp');
/** Staff move or cancel the event. */
export const changeEventUpdate = defineUpdate<EventSchedule & { status: string }, [EventChangeRequest]>('changeEvent');
/** Staff record who attended, after the event. */
export const recordAttendanceUpdate = defineUpdate<{ attended: number; absent: number }, [AttendanceRequest]>(
  'recordAttendance',
);

/** The workflow's signature, for starting it by type name with a typed input. */
export type EventWorkflow = (input: EventInput) => Promise<EventMemory>;

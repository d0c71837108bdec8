import { programmeKeys, type ProgrammeKey } from '../domain/programmes.js';
import { z } from './route.js';

/** Request schemas several routes share; a route adds its own OpenAPI example where it documents one. */

/** A round's id in a path: `round-<programme>-<year>` (`domain/workflow-ids.ts`). */
export const RoundIdSchema = z.string().regex(/^round-[a-z_]+-\d{4}$/);

/** The path parameters of a route under `/api/rounds/:roundId`. */
export const RoundParams = z.object({ roundId: RoundIdSchema });

/** One of the programme keys of `domain/programmes.ts`. */
export const ProgrammeKeySchema = z.enum(programmeKeys as [ProgrammeKey, ...ProgrammeKey[]]);

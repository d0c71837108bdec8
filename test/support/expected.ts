import { collegeEmail, universities, universityEmail } from '../../db/seeds/reference-data.js';

/**
 * The institutions each kind of programme must reach, derived from the seed data itself rather than from
 * the query under test.
 */
export function collegeContacts(): string[] {
  return universities.flatMap((u) => u.colleges.map(([suffix]) => collegeEmail(u.id, suffix)));
}

export function universityContacts(): string[] {
  return universities.map((u) => universityEmail(u.id));
}

/**
 * What an expert may read of the item under review. Pure.
 *
 * Rule (SPEC "Expert review (专家评审)": avoidance, experts never see each other's scores; issue 15, point 5:
 * "experts never see each other's scores or the applicant's avoid list"): the applicant's avoid list (回避,
 * `avoidExperts`) tells whom the applicant asked to keep away — the experts who read the material must not learn
 * it. An application's submitted version keeps it in its draft (`{ draft: { avoidExperts }, attachments }`); a
 * report, a rectification or a case carries none today, but the rule does not depend on the shape.
 */

/** The property names that hold an applicant's avoid list in a submitted draft or report. */
export const AVOID_LIST_KEYS: ReadonlySet<string> = new Set(['avoidExperts']);

/**
 * The material as an expert reads it: `content` (any JSON value — the submitted application version, or the
 * evaluation report's, rectification report's, project report's or case's content) copied without any
 * property named in `AVOID_LIST_KEYS`, at any depth. Everything else is kept as it is; `content` is not changed.
 * Never throws.
 */
export function materialForExperts(content: unknown): unknown {
  if (Array.isArray(content)) return content.map(materialForExperts);
  if (content === null || typeof content !== 'object') return content;
  return Object.fromEntries(
    Object.entries(content)
      .filter(([key]) => !AVOID_LIST_KEYS.has(key))
      .map(([key, value]) => [key, materialForExperts(value)]),
  );
}

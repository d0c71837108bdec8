"""Schemathesis hooks of the API contract run (test/e2e/api.contract.test.ts). They make generated requests
valid where validity depends on records or on other requests, never hide a refusal:

- Idempotency-Key: a caller that sends one key with two different requests is answered 422
  IDEMPOTENCY_KEY_REUSED (api/idempotency.ts, documented on every mutating operation). Generated keys come from
  a small pattern space (and the examples phase sends the documented example every time), so each request gets
  a key of its own.
- References in bodies: an id naming another record must name one that exists (422 naming the field otherwise,
  issue 14 point 3); the run puts there the records the role owns (CONTRACT_* in the environment, from
  test/support/contract.seed.ts).
- A score sheet names each criterion of the assignment's rubric (the rubric is per programme, in the
  assignment the expert reads first); the generated scores stay, under the rubric's keys.
- A year's holiday arrangement lists each day of that year (the path's) once, 调休 working days on weekends:
  the generated days move into it and onto a weekend, repeats dropped.
- An account import (POST /api/accounts/imports) is a sheet with the template's columns and one new account.
- Reference data (POST/PUT /api/reference/…): a new institution or enterprise gets an id and a name of its own
  (409 REFERENCE_EXISTS otherwise), a college the seeded university as its parent, an enterprise a seeded
  industry; a change keeps the record's name and parent (a university stays one; names are unique); a
  partnership names the seeded institution and enterprise; an expert gets an email of its own, the seeded
  enterprise as its unit, a seeded industry and seeded conflicts, and stays deactivated (out of the run's
  review); an import is a sheet with the list's columns, the workbook import a workbook the test wrote.
- Accounts: signing in (POST /api/session) uses the seeded account's email and password; a new account
  (POST /api/accounts) gets an email of its own (one account per email: 409 ACCOUNT_EXISTS otherwise) and names
  the seeded institution, enterprise or expert.
- The accounts and tokens the runs authenticate with are never disabled, re-invited or revoked: the run would
  lose its credentials (every later answer 401). A path naming one (the stateful phase follows the ids
  GET /api/accounts and GET /api/access-tokens return) names the seeded account or spare token instead.
- A programme's rule set (PUT /api/programmes/{programme}/rules) holds together across fields, which no schema
  states (api/routes/programmes.ts `rulesProblems`): each rubric's weights sum to 100 under distinct codes, no value
  is listed twice, a university's limit is not below an applicant's, no more valid scores than experts, a quota's
  minimum not above its maximum, a rectification within its ceiling, fields only from the industries (dropped).
- A round's rule adjustments (POST /api/rounds `rules`) hold together with the programme's rules: an applicant's
  limit not above a university's, reminder days listed once.
- Times the API compares with the clock or with stored dates (an event's start in the future, a round's
  deadline after its opening, an extension later than the current deadline) are set relative to now, keeping
  the generated format.
"""

import base64
import datetime
import itertools
import os

import schemathesis
from hypothesis import strategies as st

# An XLSX body has no JSON schema to serialize: generated as raw bytes (the hook below puts a workbook there).
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
schemathesis.openapi.media_type(XLSX, st.binary(min_size=1, max_size=64))

_keys = itertools.count(1)
_later = itertools.count(1)
_SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def _days_ahead(days):
    return datetime.datetime.now(_SHANGHAI) + datetime.timedelta(days=days)


def _env(name):
    return os.environ[f"CONTRACT_{name}"]


def _set_if_present(body, field, value):
    if isinstance(body, dict) and field in body:
        body[field] = value


def _credentials_kept(case):
    path, params = case.operation.path, case.path_parameters
    if params is None:
        return
    if path.startswith("/api/accounts/{accountId}/") and params.get("accountId") in _env("ACCOUNTS_IN_USE").split(","):
        params["accountId"] = _env("INVITABLE_ACCOUNT_ID" if path.endswith("/invitation") else "ACCOUNT_ID")
    if path == "/api/access-tokens/{tokenId}" and params.get("tokenId") == _env("TOKEN_IN_USE_ID"):
        params["tokenId"] = _env("TOKEN_ID")


def _owned_references(case):
    path, method, body = case.operation.path, case.method.upper(), case.body
    institution = _env("INSTITUTION")
    if (method, path) == ("PUT", "/api/programmes/{programme}/rules") and isinstance(body, dict):
        _rules_holding_together(body.get("rules"))
        return
    if (method, path) == ("POST", "/api/accounts/imports"):
        # Any bytes are a schema-valid file; an account sheet is one with the template's columns and a row the
        # database accepts (an email of its own, the seeded institution). CSV in UTF-8, as documented.
        email = f"contract-import-{next(_keys)}@accounts.ronghe.example"
        case.media_type = "text/csv"
        case.body = f"姓名,电子邮箱,账号类型,单位\n导入测试,{email},申报单位,{institution}\n".encode()
        return
    if (method, path) == ("POST", "/api/reference/import"):
        # A reference workbook (XLSX, built by the test with the API's own writer): the same each time, so a real
        # import creates its enterprise once and finds it unchanged after.
        case.media_type = XLSX
        case.body = base64.b64decode(_env("WORKBOOK_BASE64"))
        return
    if method == "POST" and path in _REFERENCE_IMPORTS:
        n = next(_keys)
        case.media_type = "text/csv"
        case.body = _REFERENCE_IMPORTS[path](n, institution, _env("ENTERPRISE")).encode()
        return
    if not isinstance(body, dict):
        return
    if path.startswith("/api/reference/"):
        _reference_body(method, path, body, institution)
    elif (method, path) == ("POST", "/api/session"):
        body["email"] = _env("SIGN_IN_EMAIL")
        body["password"] = _env("SIGN_IN_PASSWORD")
        body.pop("totp", None)
    elif (method, path) == ("POST", "/api/accounts"):
        body["email"] = f"contract-new-{next(_keys)}@accounts.ronghe.example"
        _set_if_present(body, "institutionId", institution)
        _set_if_present(body, "enterpriseId", _env("ENTERPRISE"))
        _set_if_present(body, "expertId", _env("POOL_EXPERT"))
    elif (method, path) == ("POST", "/api/events"):
        _set_if_present(body, "presenters", [institution])
        _set_if_present(body, "showcaseId", _env("SHOWCASE_ID"))
        _set_if_present(body, "startsAt", _days_ahead(30 + next(_later) % 300).isoformat(timespec="seconds"))
    elif (method, path) == ("PUT", "/api/events/{eventId}"):
        _set_if_present(body, "startsAt", _days_ahead(30 + next(_later) % 300).isoformat(timespec="seconds"))
    elif (method, path) == ("POST", "/api/rounds"):
        if "deadline" in body:
            body.pop("opensAt", None)
            body["deadline"] = _days_ahead(60).date().isoformat()
        # A round's adjustments hold together with the rules they adjust (api/routes/round.launch.ts): a
        # university's limit not below an applicant's, each reminder day once.
        rules = body.get("rules")
        if isinstance(rules, dict):
            limits = rules.get("limits")
            if isinstance(limits, dict) and limits:
                limits["perUniversity"] = max(limits.get("perUniversity", 0), limits.get("perApplicant", 0), 100)
            if isinstance(rules.get("reminderWorkingDaysBefore"), list):
                rules["reminderWorkingDaysBefore"] = sorted(set(rules["reminderWorkingDaysBefore"]), reverse=True)
    elif (method, path) == ("PUT", "/api/rounds/{roundId}/deadline"):
        # Each extension later than the one before (the seeded deadline is within the next half year).
        body["deadline"] = (_days_ahead(200) + datetime.timedelta(days=next(_later))).date().isoformat()
    elif (method, path) in (("POST", "/api/rounds/{roundId}/applications"), ("PUT", "/api/applications/{applicationId}")):
        _set_if_present(body, "field", "next_gen_it")
        _set_if_present(body, "partnerEnterpriseIds", ["hanwei"] if body.get("partnerEnterpriseIds") else [])
        _set_if_present(body, "avoidExperts", ["评审专家1"] if body.get("avoidExperts") else [])
        for member in body.get("members") or []:
            if isinstance(member, dict) and "institutionId" in member:
                member["institutionId"] = institution
    elif (method, path) == ("POST", "/api/events/{eventId}/attendance"):
        _set_if_present(body, "attended", [institution])
    elif (method, path) == ("POST", "/api/publicity/{publicityId}/objections"):
        _set_if_present(body, "entryId", _env("PUBLICITY_ENTRY_ID"))
    elif (method, path) == ("POST", "/api/evaluations/{evaluationId}/reports"):
        _set_if_present(body, "entryId", _env("ENTRY_ID"))
    elif (method, path) == ("POST", "/api/showcases/{showcaseId}/nominations"):
        body["sourceKind"] = "directory_entry"
        body["sourceId"] = _env("NOMINABLE_ENTRY_ID")
    elif (method, path) == ("PUT", "/api/assignments/{assignmentId}/review") and isinstance(body.get("scores"), dict):
        values = list(body["scores"].values()) or [80]
        keys = _env("RUBRIC_KEYS").split(",")
        body["scores"] = {key: values[i % len(values)] for i, key in enumerate(keys)}
    elif (method, path) == ("PUT", "/api/calendar/years/{year}"):
        year = int(case.path_parameters["year"])
        seen = set()
        for kind in ("holidays", "workdays"):
            days = []
            for day in body.get(kind) or []:
                if isinstance(day, dict) and isinstance(day.get("date"), str):
                    date = _in_year(year, day["date"], weekend=kind == "workdays")
                    if date in seen:
                        continue
                    seen.add(date)
                    day["date"] = date
                days.append(day)
            if kind in body:
                body[kind] = days


_REFERENCE_IMPORTS = {
    "/api/reference/institutions/import": lambda n, i, e: f"编号,名称,城市,联系邮箱\ncontract-import-{n},合同导入大学{n},郑州,jwc@import-{n}.example\n",
    "/api/reference/enterprises/import": lambda n, i, e: f"编号,名称,所属行业,城市\ncontract-import-{n},合同导入企业{n},新材料,郑州\n",
    "/api/reference/partnerships/import": lambda n, i, e: f"单位编号,企业编号\n{i},{e}\n",
    "/api/reference/experts/import": lambda n, i, e: (
        f"编号,姓名,职称,所在企业,电子邮箱,评审领域,状态\ncontract-import-{n},合同导入专家{n},教授,{e},ci-{n}@pool.example,新材料,停用\n"
    ),
}


def _reference_body(method, path, body, institution):
    n = next(_keys)
    if (method, path) == ("POST", "/api/reference/institutions"):
        body["id"] = f"contract-inst-{n}"
        body["nameZh"] = f"合同测试单位{n}"
        if body.get("parentId") is not None:
            body["parentId"] = institution
    elif (method, path) == ("PUT", "/api/reference/institutions/{institutionId}"):
        body["nameZh"] = _env("INSTITUTION_NAME")
        body.pop("parentId", None)
    elif (method, path) == ("POST", "/api/reference/enterprises"):
        body["id"] = f"contract-ent-{n}"
        body["nameZh"] = f"合同测试企业{n}"
        body["industry"] = "next_gen_it"
    elif (method, path) == ("PUT", "/api/reference/enterprises/{enterpriseId}"):
        body["nameZh"] = _env("ENTERPRISE_NAME")
        body["industry"] = "next_gen_it"
    elif (method, path) == ("POST", "/api/reference/partnerships"):
        body["institutionId"] = institution
        body["enterpriseId"] = _env("ENTERPRISE")
    elif path in ("/api/reference/experts", "/api/reference/experts/{expertId}"):
        if method == "POST":
            body["id"] = f"contract-pool-{n}"
        # An address of its own (each expert's is unique), a unit that exists (exactly one of the two), fields
        # and declared conflicts that exist; kept out of the pool the run's review invites (deactivated).
        body["email"] = f"contract-pool-{n}@pool.ronghe.example"
        body.pop("institutionId", None)
        body["enterpriseId"] = _env("ENTERPRISE")
        body["fields"] = ["new_materials"]
        body["active"] = False
        _set_if_present(body, "conflictInstitutionIds", [institution] if body.get("conflictInstitutionIds") else [])
        _set_if_present(body, "conflictEnterpriseIds", [_env("ENTERPRISE")] if body.get("conflictEnterpriseIds") else [])


def _in_year(year, date, weekend):
    """The generated day moved into `year` (29 February to the 28th in a common year); a 调休 working day, which
    the API takes only on a weekend, moved to the nearest Saturday or Sunday of that year."""
    month, day = int(date[5:7]), int(date[8:10])
    if (month, day) == (2, 29) and not _leap(year):
        day = 28
    moved = datetime.date(year, month, day)
    while weekend and moved.weekday() < 5:
        step = datetime.timedelta(days=1 if moved.month < 12 else -1)
        moved += step
    return moved.isoformat()


def _rubric_summing_to_100(rubric):
    if not isinstance(rubric, list) or not rubric:
        return rubric
    share = 100 // len(rubric)
    for i, criterion in enumerate(rubric):
        if isinstance(criterion, dict):
            criterion["key"] = f"k{i}"
            criterion["weight"] = share + (100 - share * len(rubric) if i == len(rubric) - 1 else 0)
    return rubric


def _distinct(values):
    return list(dict.fromkeys(values)) if isinstance(values, list) else values


def _rules_holding_together(rules):
    if not isinstance(rules, dict):
        return
    _rubric_summing_to_100(rules.get("rubric"))
    rules["applicantKinds"] = _distinct(rules.get("applicantKinds"))
    rules.pop("fields", None)
    limits = rules.get("limits")
    if isinstance(limits, dict) and {"perApplicant", "perUniversity"} <= limits.keys():
        limits["perUniversity"] = max(limits["perUniversity"], limits["perApplicant"])
    review = rules.get("review")
    if isinstance(review, dict):
        if {"minValidScores", "expertsPerApplication"} <= review.keys():
            review["minValidScores"] = min(review["minValidScores"], review["expertsPerApplication"])
        review["reminderWorkingDaysBefore"] = _distinct(review.get("reminderWorkingDaysBefore"))
    call = rules.get("call")
    if isinstance(call, dict):
        call["reminderWorkingDaysBefore"] = _distinct(call.get("reminderWorkingDaysBefore"))
    quota = rules.get("quota")
    if isinstance(quota, dict) and "min" in quota and "max" in quota and quota["min"] > quota["max"]:
        quota["min"], quota["max"] = quota["max"], quota["min"]
    directory = rules.get("directory")
    if isinstance(directory, dict):
        if {"rectificationMonths", "maxRectificationMonths"} <= directory.keys():
            directory["rectificationMonths"] = min(directory["rectificationMonths"], directory["maxRectificationMonths"])
        _rubric_summing_to_100(directory.get("evaluationRubric"))


def _leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@schemathesis.hook
def before_call(context, case, kwargs):
    # Every phase (examples, coverage, fuzzing, stateful) sends through here.
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"contract-{next(_keys)}"
    _credentials_kept(case)
    if case.meta is None or getattr(case.meta, "generation", None) is None or _positive(case):
        _owned_references(case)


def _positive(case):
    mode = getattr(case.meta.generation, "mode", None)
    return str(getattr(mode, "value", mode)) == "positive"

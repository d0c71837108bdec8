#!/usr/bin/env bash
# A whole yearly round driven through the API with curl, printing each step: launch, drafts with their
# 申报书, submissions, an extension, expert review, the confirmed shortlist, publicity with objections, and
# 认定. Run it against a running `npm start` (in another terminal):
#
#   scripts/walkthrough.sh                 # API at http://127.0.0.1:3000, round teacher_station 2031
#   API=http://127.0.0.1:3300 YEAR=2032 scripts/walkthrough.sh
#
# Time is compressed (SCALE, default 60000: a working day passes in about a second and a half), so the
# whole round takes two to three minutes. Every error it provokes on purpose is shown as the problem+json
# the API answers. It exits non-zero when an answer is not the one expected.
set -euo pipefail
cd "$(dirname "$0")/.."
# Characters, not bytes, when the printed answers are cut short.
export LC_ALL="${LC_ALL:-C.UTF-8}"

API="${API:-http://127.0.0.1:3000}"
YEAR="${YEAR:-2031}"
SCALE="${SCALE:-60000}"
PROGRAMME=teacher_station
ROUND="round-${PROGRAMME}-${YEAR}"
APPLICANTS=(hpu haust xcu)
# The seeded experts of the field the applications declare (next_gen_it).
EXPERTS=(exp-001 exp-002 exp-003 exp-004 exp-005 exp-006 exp-007)

n=0
step() { n=$((n + 1)); printf '\n\033[1m[%d] %s\033[0m\n' "$n" "$*"; }
field() {
  node -e 'let v = JSON.parse(process.argv[1]); for (const k of process.argv[2].split(".").filter(Boolean)) v = v?.[/^\d+$/.test(k) ? Number(k) : k];
    process.stdout.write(v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));' "$1" "$2"
}
token() { node --import tsx scripts/token.ts "$@"; }

# call METHOD PATH TOKEN [JSON] [CONTENT-TYPE] — sets BODY and CODE and prints both (abridged).
call() {
  local method=$1 path=$2 tok=$3 data=${4:-} type=${5:-application/json}
  local args=(-s -X "$method" "$API$path" -w '\n%{http_code}')
  [ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
  if [ -n "$data" ]; then
    if [ "${data:0:1}" = "@" ]; then args+=(-H "Content-Type: $type" --data-binary "$data"); else args+=(-H "Content-Type: $type" -d "$data"); fi
  fi
  local out
  out=$(curl "${args[@]}")
  CODE=${out##*$'\n'}
  BODY=${out%$'\n'*}
  printf '  %s %s → %s %s\n' "$method" "$path" "$CODE" "${BODY:0:200}"
}
expect() {
  if [ "$CODE" != "$1" ]; then
    echo "  ✗ expected HTTP $1, got $CODE" >&2
    exit 1
  fi
}
expect_problem() {
  expect "$1"
  [ "$(field "$BODY" code)" = "$2" ] || { echo "  ✗ expected problem $2" >&2; exit 1; }
  echo "  ✓ problem+json: $(field "$BODY" code) — $(field "$BODY" title)"
}
stage() { call GET "/api/rounds/$ROUND" "$STAFF" >/dev/null; field "$BODY" workflow.stage; }
wait_for() {
  local want=$1 s
  printf '  waiting for stage %s' "$want"
  for _ in $(seq 1 300); do
    s=$(stage)
    if [ "$s" = "$want" ]; then printf ' ✓\n'; return 0; fi
    printf ' %s' "${s:-…}"
    sleep 2
  done
  echo " ✗ timed out" >&2
  exit 1
}

step "Is the stack up?"
call GET /healthz ""
expect 200

step "Development tokens (npm run -s token): staff, applicants ${APPLICANTS[*]}, experts"
STAFF=$(token staff walkthrough)
declare -A APPLICANT EXPERT
for a in "${APPLICANTS[@]}"; do APPLICANT[$a]=$(token applicant "$a"); done
for e in "${EXPERTS[@]}"; do EXPERT[$e]=$(token expert "$e"); done
echo "  ok"

step "Staff launch $ROUND in compressed time (${SCALE}×), quota 2"
call POST /api/rounds "$STAFF" "{\"programme\":\"$PROGRAMME\",\"year\":$YEAR,\"timeScale\":$SCALE,\"rules\":{\"quota\":2}}"
if [ "$CODE" = 409 ]; then echo "  $ROUND exists already: set YEAR to another year" >&2; exit 1; fi
expect 201

step "Launching it again is refused"
call POST /api/rounds "$STAFF" "{\"programme\":\"$PROGRAMME\",\"year\":$YEAR}"
expect_problem 409 ROUND_EXISTS

wait_for call_open
step "Staff extend the deadline by two days; an extension that is not later is refused"
call GET "/api/rounds/$ROUND" "$STAFF" >/dev/null
DEADLINE=$(field "$BODY" deadline.day)
LATER=$(node -e 'const d = new Date(process.argv[1] + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + 2); console.log(d.toISOString().slice(0, 10))' "$DEADLINE")
call PUT "/api/rounds/$ROUND/deadline" "$STAFF" "{\"deadline\":\"$DEADLINE\",\"reason\":\"演示\"}"
expect_problem 422 DEADLINE_NOT_LATER
call PUT "/api/rounds/$ROUND/deadline" "$STAFF" "{\"deadline\":\"$LATER\",\"reason\":\"应申报单位请求延长两天\"}"
expect 200

step "Each applicant saves a draft, uploads its 申报书 and submits"
PDF=$(mktemp)
printf '%%PDF-1.4\n%% walkthrough\n%%%%EOF\n' >"$PDF"
declare -A APP
i=0
for a in "${APPLICANTS[@]}"; do
  i=$((i + 1))
  call POST "/api/rounds/$ROUND/applications" "${APPLICANT[$a]}" "{\"title\":\"$a 教师企业实践流动站建设方案\",\"field\":\"next_gen_it\",\"summary\":\"依托行业龙头企业建设教师企业实践流动站，组织专业教师定期赴企业跟岗实践，参与技术研发与项目攻关，提升专业课教师的技术跟进和技能指导水平，形成校企共享的师资培养机制。\"}"
  expect 201
  APP[$a]=$(field "$BODY" applicationId)
  call POST "/api/applications/${APP[$a]}/attachments?kind=application_form&fileName=shenbaoshu.pdf" "${APPLICANT[$a]}" "@$PDF" application/pdf
  expect 201
  call POST "/api/applications/${APP[$a]}/submit" "${APPLICANT[$a]}"
  expect 200
done
rm -f "$PDF"

step "A second application from hpu is over the programme's limit"
call POST "/api/rounds/$ROUND/applications" "${APPLICANT[hpu]}" '{"title":"第二项","field":"next_gen_it"}'
expect 201
SECOND=$(field "$BODY" applicationId)
call POST "/api/applications/$SECOND/submit" "${APPLICANT[hpu]}"
expect_problem 409 LIMIT_EXCEEDED

step "Progress"
call GET "/api/rounds/$ROUND/progress" "$STAFF"
expect 200

wait_for review
step "After the close, a submission is late"
call POST "/api/applications/$SECOND/submit" "${APPLICANT[hpu]}"
expect_problem 409 DEADLINE_PASSED

step "Experts score their assignments (a score of 101 is refused)"
refused=0
for e in "${EXPERTS[@]}"; do
  call GET /api/me/assignments "${EXPERT[$e]}" >/dev/null
  for id in $(node -e 'for (const a of JSON.parse(process.argv[1]).items) console.log(a.assignmentId)' "$BODY"); do
    call GET "/api/assignments/$id" "${EXPERT[$e]}" >/dev/null
    KEYS=$(node -e 'console.log(JSON.parse(process.argv[1]).rubric.map((c) => c.key).join(" "))' "$BODY")
    if [ $refused = 0 ]; then
      call PUT "/api/assignments/$id/review" "${EXPERT[$e]}" "{\"scores\":{$(for k in $KEYS; do printf '"%s":101,' "$k"; done | sed 's/,$//')}}"
      expect_problem 422 VALIDATION_FAILED
      refused=1
    fi
    call PUT "/api/assignments/$id/review" "${EXPERT[$e]}" "{\"scores\":{$(for k in $KEYS; do printf '"%s":%d,' "$k" $((80 + RANDOM % 15)); done | sed 's/,$//')},\"comment\":\"建设基础扎实\"}"
    expect 200
  done
done

wait_for shortlist_pending
step "Staff read the ranking and confirm the shortlist"
call GET "/api/rounds/$ROUND/shortlist" "$STAFF"
expect 200
call POST "/api/rounds/$ROUND/shortlist/confirm" "$STAFF" '{}'
expect 200

wait_for publicity
step "The list is published; an anonymous objection is refused, a real-name one is filed and dismissed"
call GET "/api/rounds/$ROUND/publicity" ""
PUB=$(field "$BODY" items.0.publicityId)
call GET "/api/publicity/$PUB" ""
expect 200
ENTRY=$(field "$BODY" entries.0.entryId)
echo "  public page: $API/publicity/$PUB"
call POST "/api/publicity/$PUB/objections" "" "{\"entryId\":\"$ENTRY\",\"facts\":\"匿名反映：材料有问题。\"}"
expect_problem 422 REAL_NAME_REQUIRED
call POST "/api/publicity/$PUB/objections" "" "{\"entryId\":\"$ENTRY\",\"name\":\"陈立\",\"unit\":\"某研究所\",\"phone\":\"0371-88886666\",\"email\":\"chen.li@objector.example\",\"facts\":\"该项目的合作企业实践岗位数量与实际不符，请核查。\"}"
expect 201
OBJ=$(field "$BODY" objectionId)
call POST "/api/objections/$OBJ/resolution" "$STAFF" '{"outcome":"dismissed","reason":"经核查，实践岗位数量有协议佐证"}'
expect 200
call POST "/api/objections/$OBJ/resolution" "$STAFF" '{"outcome":"upheld","reason":"再次处理"}'
expect_problem 409 ALREADY_RESOLVED

wait_for approved
step "认定: the result is final and published"
call GET "/api/rounds/$ROUND/outcome" ""
expect 200
echo "  approved: $(field "$BODY" approved | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).map((a)=>a.title).join("、")))')"
echo "  outcome page: $API/rounds/$ROUND/outcome"
printf '\n\033[1mWalkthrough complete: %s from launch to 认定.\033[0m\n' "$ROUND"

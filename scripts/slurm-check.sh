#!/usr/bin/env bash
# A real single-node Slurm on this machine runs the project's own deploy/slurm/submit.sh:
#   1. the grid ARCHS=mobilenet_v2,mobilenet × SEEDS=1,2 (quick profile, 32 px, 1 epoch) as a 2-task
#      array and its dependent merge job; the merged table must equal the same grid trained here without
#      Slurm (same runs, same accuracies), and every run must have started exactly once;
#   2. faults: one task cancelled (scancel) after its first checkpoint, another made to fail
#      deterministically (exit 3, SCALE_FAIL_RUNS test hook); 8 epochs, so that the cancel lands mid-run; resubmitted, the cancelled run resumes
#      from its checkpoint and the failed one stays failed; rerun with RETRY_FAILED=1 it completes.
# Slurm and munge are installed from Debian when absent (root). Everything else is private: munged
# with its own key, socket and state, slurmctld and slurmd with their own slurm.conf (SLURM_CONF),
# ports and spool, all in one temporary folder; nothing under /etc is written. Every daemon and job
# it started is stopped on exit, also on failure or Ctrl-C.
#
#   scripts/slurm-check.sh          exit 0 passed, 1 failed, 77 cannot run here (the reason printed)
#   KEEP=1 scripts/slurm-check.sh   keep the state folder (logs, runs) also after a pass
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STARTED=$SECONDS
say() { echo "slurm-check: $*"; }
skip() { say "SKIPPED — $*"; exit 77; }
STATE="" # set once daemons may exist; the cleanup looks at it
SUMMARY="" # the last line, printed by the cleanup after everything is stopped
fail() {
  SUMMARY="FAILED — $*"
  KEEP=1
  exit 1
}

# ---- 1. Slurm and munge from Debian, when absent ------------------------------------------------
need=(munged munge slurmctld slurmd sbatch squeue scancel scontrol sinfo)
missing() { for command in "${need[@]}"; do command -v "$command" >/dev/null || return 0; done; return 1; }
if missing; then
  [[ $(id -u) == 0 ]] || skip "Slurm is not installed and installing it needs root"
  command -v apt-get >/dev/null || skip "Slurm is not installed and there is no apt-get to install it"
  say "installing Slurm and munge from Debian (slurmctld slurmd slurm-client munge)"
  apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends slurmctld slurmd slurm-client munge; }
  # The packages' scripts would start the system's own munged and slurmd (with /etc's configuration);
  # a policy-rc.d saying "no" for the time of the install stops them (Debian containers have one already).
  guard=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\n# temporary, scripts/slurm-check.sh: no service starts while it installs Slurm\nexit 101\n' >"$guard"
    chmod 755 "$guard"
  fi
  log="$(mktemp /tmp/slurm-check-install.XXXXXX)"
  trap '[[ -n "$guard" ]] && rm -f "$guard"' EXIT
  apt_install >"$log" 2>&1 || { apt-get update -q >>"$log" 2>&1 && apt_install >>"$log" 2>&1; } || true
  [[ -n "$guard" ]] && rm -f "$guard"
  trap - EXIT
  ! missing || skip "apt-get could not install Slurm and munge: $(tail -n 1 "$log")"
  rm -f "$log"
  say "installed in $((SECONDS - STARTED)) s"
fi
[[ $(id -u) == 0 ]] || skip "the private cluster runs its daemons as root (SlurmUser=root); run as root"

# ---- 2. Private cluster: munged, slurmctld, slurmd ---------------------------------------------
STATE="$(mktemp -d /tmp/showcase-slurm-check.XXXXXX)"
chmod 755 "$STATE" # munged wants its socket's folders searchable by everyone
mkdir -m 700 "$STATE/munge"
mkdir -m 755 "$STATE/socket"
mkdir "$STATE/ctld" "$STATE/spool" "$STATE/log" "$STATE/jobs"
CONF="$STATE/slurm.conf"
SOCKET="$STATE/socket/munge.socket"
# Every daemon and job started here carries this marker in its environment (jobs inherit it through
# --export=ALL): the cleanup finds exactly these and nothing else.
MARK="SHOWCASE_SLURM_CHECK=$STATE"

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  if [[ -f "$STATE/slurmctld.pid" ]]; then
    SLURM_CONF="$CONF" scancel --quiet --full --user=root 2>/dev/null
    for _ in $(seq 50); do [[ -z "$(SLURM_CONF="$CONF" squeue -h 2>/dev/null)" ]] && break; sleep 0.2; done
    SLURM_CONF="$CONF" scontrol shutdown >/dev/null 2>&1
  fi
  [[ -S "$SOCKET" ]] && munged --stop --socket="$SOCKET" >/dev/null 2>&1
  # Whatever is left of them (a job step, a daemon that did not stop): by the marker, TERM then KILL.
  marked() { grep -lszxF "$MARK" /proc/[0-9]*/environ | cut -d/ -f3; }
  local left
  for signal in TERM KILL; do
    for _ in $(seq 25); do left="$(marked)"; [[ -z "$left" ]] && break; sleep 0.2; done
    [[ -z "$left" ]] && break
    say "stopping left-over processes ($signal): $(echo $left)"
    kill -s "$signal" $left 2>/dev/null
  done
  left="$(marked)"
  if [[ -n "$left" ]]; then
    say "processes still running: $left"
    status=1
  else
    say "all daemons and jobs it started are stopped"
  fi
  if [[ "${KEEP:-0}" == 1 ]]; then say "state (logs, runs) kept in $STATE"; else rm -rf "$STATE"; fi
  [[ $status != 0 && -z "$SUMMARY" ]] && SUMMARY="FAILED — exit $status (see above)"
  say "${SUMMARY:-FAILED — stopped early}"
  exit "$status"
}
trap cleanup EXIT
trap 'SUMMARY="FAILED — interrupted"; KEEP=1; exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
CTLD_PORT=16817
while ! port_free $CTLD_PORT || ! port_free $((CTLD_PORT + 1)); do CTLD_PORT=$((CTLD_PORT + 10)); done
# This machine as slurmd sees it (cores, sockets, memory): the node line slurmd itself would accept.
NODE_LINE="$(slurmd -C | head -n 1)"
[[ "$NODE_LINE" =~ ^NodeName=([^ ]+).*\ CPUs=([0-9]+).*\ RealMemory=([0-9]+) ]] || fail "slurmd -C said: $NODE_LINE"
NODE="${BASH_REMATCH[1]}" CPUS="${BASH_REMATCH[2]}" MEMORY_MB="${BASH_REMATCH[3]}"
cat >"$CONF" <<EOF
# Written by scripts/slurm-check.sh: one node, this machine's cores and memory, no GPUs.
ClusterName=showcase-check
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$((CTLD_PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
KillWait=5
MinJobAge=3600
$NODE_LINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=check Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$STATE/munge/munge.key"
env "$MARK" munged --key-file="$STATE/munge/munge.key" --socket="$SOCKET" --pid-file="$STATE/munge/munged.pid" \
  --log-file="$STATE/munge/munged.log" --seed-file="$STATE/munge/munged.seed" || fail "munged did not start: $(tail -n 1 "$STATE/munge/munged.log")"
export SLURM_CONF="$CONF" # for slurmctld, slurmd and every client command below, and the jobs
env "$MARK" slurmctld -i || fail "slurmctld did not start: $(tail -n 2 "$STATE/log/slurmctld.log")"
env "$MARK" slurmd || fail "slurmd did not start: $(tail -n 2 "$STATE/log/slurmd.log")"
for _ in $(seq 100); do [[ "$(sinfo -h -o %T 2>/dev/null)" == idle ]] && break; sleep 0.2; done
[[ "$(sinfo -h -o %T 2>/dev/null)" == idle ]] || fail "node not idle: $(sinfo -h -o '%T %E' 2>&1); see $STATE/log"
say "$(sbatch --version), $(munged --version 2>&1 | head -n 1 | cut -d' ' -f1)"
say "cluster up: node $NODE, $CPUS CPUs, $MEMORY_MB MB, select/cons_tres, no GPUs; ports $CTLD_PORT/$((CTLD_PORT + 1)); state in $STATE"

# ---- helpers -------------------------------------------------------------------------------------
# The run's parameters: quick profile at 32 px, 1 epoch, a few synthetic images, the pure-JS engine.
TINY=(PROFILE=quick IMAGE_SIZE=32 EPOCHS=1 TRAIN_PER_CLASS=4 VALIDATION_PER_CLASS=2 SYNTHETIC_PER_CLASS=6
  BATCH_SIZE=4 STEPS_PER_EPOCH=all ENGINE=cpu WORKERS=1)
submit() { # submit VAR=value…: the project's own submit script; sets $array and $merge from its output
  local out
  out="$(env "$MARK" "${TINY[@]}" SHARD_COUNT=2 GPUS_PER_TASK=0 CPUS_PER_TASK=1 EVALUATE=0 LOG_DIR="$STATE/jobs" "$@" "$ROOT/deploy/slurm/submit.sh" 2>&1)" ||
    fail "submit.sh failed: $out"
  read -r array merge <<<"$(sed -n 's/^training array \([0-9]*\) .* merge \([0-9]*\) after it$/\1 \2/p' <<<"$out")"
  [[ -n "${merge:-}" ]] || fail "no job ids in submit.sh's output: $out"
}
state_of() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n 1 | cut -d= -f2; }
exit_of() { scontrol show job "$1" 2>/dev/null | grep -o ' ExitCode=[0-9]*' | head -n 1 | cut -d= -f2; }
wait_done() { # wait_done JOB TIMEOUT_S: until the job (all array tasks) left the queue
  local deadline=$((SECONDS + $2))
  while [[ -n "$(squeue -h -j "$1" 2>/dev/null)" ]]; do
    ((SECONDS < deadline)) || fail "job $1 still queued or running after $2 s: $(squeue -h -j "$1" -o '%i %T %R' | tr '\n' ' ')"
    sleep 1
  done
}
merged() { node -e '
  const m = require(process.argv[1]);
  const rows = (list, f) => list.map((r) => `${r.key}${f(r)}`).join(" ");
  console.log(`completed=[${rows(m.completed, () => "")}] failed=[${rows(m.failed, () => "")}] missing=[${rows(m.missing, () => "")}]`);
' "$1/merged-results.json"; }

# ---- 3. The real thing: 4 runs on 2 shards, then the merge --------------------------------------
GRID=(ARCHS=mobilenet_v2,mobilenet SEEDS=1,2 RUN_ID=grid)
phase=$SECONDS
submit "${GRID[@]}" RUNS_DIR="$STATE/runs"
say "grid: submitted array $array (2 tasks) and merge $merge (afterany:$array)"
wait_done "$merge" 900
for task in 0 1; do
  [[ "$(state_of "${array}_$task")" == COMPLETED ]] || fail "array task ${array}_$task: $(state_of "${array}_$task") exit $(exit_of "${array}_$task"); see $STATE/jobs"
done
[[ "$(state_of "$merge")" == COMPLETED ]] || fail "merge job $merge: $(state_of "$merge"); see $STATE/jobs/showcase-merge-$merge.out"
grep -q "from SLURM_ARRAY_TASK_ID" "$STATE/jobs/showcase-train-${array}_1.out" || fail "task 1 did not take its shard from SLURM_ARRAY_TASK_ID"
grep -q "^4 runs: 4 completed, 0 failed, 0 missing" "$STATE/jobs/showcase-merge-$merge.out" || fail "merge job: $(cat "$STATE/jobs/showcase-merge-$merge.out")"
slurm_seconds=$((SECONDS - phase))
# Every run started exactly once: the "<key>: training (shard i/n)" lines of both task logs.
starts="$(cat "$STATE/jobs/showcase-train-${array}"_*.out | sed -n 's/^\([a-z0-9_]*__seed-[0-9]*__lr-[0-9.e-]*\): training (shard .*/\1/p' | sort)"
[[ "$(wc -l <<<"$starts")" == 4 && -z "$(uniq -d <<<"$starts")" ]] || fail "run starts in the task logs: $(echo $starts)"
say "grid on Slurm: 2 tasks COMPLETED, merge COMPLETED, 4 runs started once each ($(echo $starts)), ${slurm_seconds} s"

# The same grid here, without Slurm: one process, the whole list.
phase=$SECONDS
env "${TINY[@]}" "${GRID[@]}" RUNS_DIR="$STATE/local" PREPARED_DIR="$STATE/local-prepared" npx showcase train --quiet >"$STATE/local-train.log" 2>&1 ||
  fail "the local run failed: $(tail -n 3 "$STATE/local-train.log")"
env "${TINY[@]}" "${GRID[@]}" RUNS_DIR="$STATE/local" npx showcase train --merge >>"$STATE/local-train.log" 2>&1 || fail "the local merge failed"
local_seconds=$((SECONDS - phase))
# Same runs, same accuracies: the merged tables without what depends on the machine (durations).
node -e '
  const [a, b] = process.argv.slice(1).map((dir) => require(`${dir}/grid/merged-results.json`));
  const table = (m) => JSON.stringify({ total: m.total, failed: m.failed, missing: m.missing, completed: m.completed.map(({ metrics: { totalSeconds, ...metrics }, ...run }) => ({ ...run, metrics })) }, null, 1);
  if (table(a) !== table(b)) { console.error(`Slurm:\n${table(a)}\nlocal:\n${table(b)}`); process.exit(1); }
  for (const run of a.completed) console.log(`  ${run.key.padEnd(30)} validation accuracy ${run.metrics.finalValidationAccuracy.toFixed(4)}, loss ${run.metrics.finalValidationLoss.toFixed(4)}`);
' "$STATE/runs" "$STATE/local" || fail "the merged table on Slurm differs from the local one (above)"
say "the merged table equals the local run's (same 4 runs, same accuracies and losses; local ${local_seconds} s)"

# ---- 4. Faults: scancel mid-run, a deterministic failure, RETRY_FAILED -------------------------
FAULTS=(ARCHS=mobilenet SEEDS=1,2 RUN_ID=faults EPOCHS=8 RUNS_DIR="$STATE/runs")
CANCELLED=mobilenet__seed-1__lr-0.001 # shard 0
FAILING=mobilenet__seed-2__lr-0.001   # shard 1
phase=$SECONDS
submit "${FAULTS[@]}" SCALE_FAIL_RUNS="$FAILING"
say "faults: array $array with $FAILING made to fail (SCALE_FAIL_RUNS), merge $merge"
# lib/train writes the history after each epoch's checkpoint: once it is there, a checkpoint is too.
checkpoint="$STATE/runs/faults/results/$CANCELLED/mobilenet/history.json"
deadline=$((SECONDS + 600))
until [[ -f "$checkpoint" ]]; do
  ((SECONDS < deadline)) || fail "no checkpoint of $CANCELLED after 600 s"
  [[ -f "$STATE/runs/faults/results/$CANCELLED/result.json" ]] && fail "$CANCELLED finished before a checkpoint was seen"
  grep -qs "→ exit" "$STATE/jobs/showcase-train-${array}_0.out" && fail "task ${array}_0 ended before its first checkpoint was seen: $(tail -n 2 "$STATE/jobs/showcase-train-${array}_0.out")"
  sleep 0.2
done
scancel "${array}_0"
[[ -f "$STATE/runs/faults/results/$CANCELLED/result.json" ]] && fail "$CANCELLED finished before scancel took effect"
say "faults: first checkpoint of $CANCELLED written → scancel ${array}_0"
wait_done "$merge" 300
[[ "$(state_of "${array}_0")" == CANCELLED ]] || fail "task ${array}_0: $(state_of "${array}_0"), expected CANCELLED"
[[ "$(state_of "${array}_1")" == FAILED && "$(exit_of "${array}_1")" == 3 ]] || fail "task ${array}_1: $(state_of "${array}_1") exit $(exit_of "${array}_1"), expected FAILED with exit 3"
table="$(merged "$STATE/runs/faults")"
[[ "$table" == "completed=[] failed=[$FAILING] missing=[$CANCELLED]" ]] || fail "merge after the faults: $table"
say "faults: task 0 CANCELLED, task 1 FAILED with exit 3; the merge lists $FAILING as failed, $CANCELLED as missing"

# Resubmitted without the hook and without RETRY_FAILED: the cancelled run resumes, the failed one stays failed.
submit "${FAULTS[@]}" INDICES=0,1
wait_done "$merge" 600
[[ "$(state_of "${array}_0")" == COMPLETED ]] || fail "resubmitted task ${array}_0: $(state_of "${array}_0") exit $(exit_of "${array}_0")"
[[ "$(exit_of "${array}_1")" == 3 ]] && grep -q "$FAILING: failed earlier" "$STATE/jobs/showcase-train-${array}_1.out" ||
  fail "task ${array}_1 should report the earlier failure and exit 3: $(state_of "${array}_1") exit $(exit_of "${array}_1")"
resumed="$(node -e 'const h = require(process.argv[1]); console.log(`${h.epochs.length} ${JSON.stringify(h.provenance.resumedAtEpochs)}`)' "$STATE/runs/faults/results/$CANCELLED/mobilenet/history.json")"
[[ "$resumed" =~ ^8\ \[[2-8]\]$ ]] || fail "$CANCELLED should have 8 epochs, resumed once after a checkpoint: epochs, resumedAtEpochs = $resumed"
table="$(merged "$STATE/runs/faults")"
[[ "$table" == "completed=[$CANCELLED] failed=[$FAILING] missing=[]" ]] || fail "merge after the resubmission: $table"
say "faults: resubmitted, $CANCELLED resumed from its checkpoint (epochs, resumedAtEpochs = $resumed); $FAILING not retried (exit 3)"

submit "${FAULTS[@]}" INDICES=1 RETRY_FAILED=1
wait_done "$merge" 600
[[ "$(state_of "${array}_1")" == COMPLETED ]] || fail "rerun ${array}_1 with RETRY_FAILED=1: $(state_of "${array}_1") exit $(exit_of "${array}_1")"
table="$(merged "$STATE/runs/faults")"
[[ "$table" == "completed=[$CANCELLED $FAILING] failed=[] missing=[]" ]] || fail "merge after RETRY_FAILED=1: $table"
say "faults: index 1 rerun with RETRY_FAILED=1 completed $FAILING; merge: 2 completed, 0 failed, 0 missing ($((SECONDS - phase)) s)"

SUMMARY="PASSED — Slurm $(sbatch --version | cut -d' ' -f2): grid of 4 runs on 2 array tasks + merge equal to the local run, each run started once; scancel → resume from checkpoint, exit 3 → failed in the merge → RETRY_FAILED=1 completes; $((SECONDS - STARTED)) s"

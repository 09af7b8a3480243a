#!/usr/bin/env bash
# Queues the sharded training as a Slurm array and, after it whatever its outcome (afterany), the
# merge: `npx showcase train --merge` writes merged-results.json and lists failed and missing runs,
# then `npx showcase evaluate` evaluates the run (EVALUATE=0: merge only).
#   SHARD_COUNT=8 RUN_ID=cluster-full-1 PROFILE=full SEEDS=1,2,3 RUNS_DIR=/shared/runs deploy/slurm/submit.sh
# Parameters of the submission (the run's own parameters — PROFILE, ARCHS, SEEDS, … — reach both
# jobs through the environment):
#   SHARD_COUNT    shards = array tasks (default 8); the only place the array size is set
#   INDICES        which tasks to (re)submit, default all (0-<SHARD_COUNT-1>); e.g. INDICES=3 RETRY_FAILED=1
#   GPUS_PER_TASK  GPUs per task (default 1; 0 = no --gres, for nodes without GPUs)
#   CPUS_PER_TASK  CPUs per task (default 8)
#   LOG_DIR        where the jobs' output files go (default: the project directory)
#   EVALUATE       1 (default) or 0: run `npx showcase evaluate` after the merge
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(cd "$here/../.." && pwd)" # both jobs run here (--chdir), so relative paths mean the same everywhere
cd "$project"
whole() { # whole NAME VALUE MIN: a whole number ≥ MIN, else a one-line refusal
  if ! [[ "$2" =~ ^(0|[1-9][0-9]{0,5})$ ]] || (( $2 < $3 )); then
    echo "submit.sh: $1=$2: expected a whole number ≥ $3" >&2
    exit 2
  fi
}
shards="${SHARD_COUNT:-8}" gpus="${GPUS_PER_TASK:-1}" cpus="${CPUS_PER_TASK:-8}"
whole SHARD_COUNT "$shards" 1
whole GPUS_PER_TASK "$gpus" 0
whole CPUS_PER_TASK "$cpus" 1
index="(0|[1-9][0-9]*)"
indices="${INDICES:-0-$((shards - 1))}"
if ! [[ "$indices" =~ ^$index(-$index)?(,$index(-$index)?)*$ ]] || (( $(tr ',-' '\n\n' <<<"$indices" | sort -n | tail -n 1) >= shards )); then
  echo "submit.sh: INDICES=$indices: expected indices from 0 to $((shards - 1)) such as 3 or 0,2 or 1-3" >&2
  exit 2
fi
case "${EVALUATE:-1}" in
  1) merge_command="npx showcase train --merge && npx showcase evaluate" ;;
  0) merge_command="npx showcase train --merge" ;;
  *) echo "submit.sh: EVALUATE=${EVALUATE}: expected 1 or 0" >&2; exit 2 ;;
esac
log_dir="${LOG_DIR:-$project}"
mkdir -p "$log_dir"
export SHARD_COUNT="$shards" # every task, also of a partial rerun, knows the whole count
gres=()
(( gpus > 0 )) && gres=(--gres="gpu:$gpus")
# Write (or check) runlist.json once on the login node: bad parameters fail here, not in N jobs.
npx showcase train --plan
train_job="$(sbatch --parsable --array="$indices" --chdir="$project" --cpus-per-task="$cpus" "${gres[@]}" \
  --output="$log_dir/showcase-train-%A_%a.out" --export=ALL "$here/train-array.sbatch")"
train_job="${train_job%%;*}" # --parsable prints "jobid[;cluster]"
merge_job="$(sbatch --parsable --dependency="afterany:$train_job" --job-name=showcase-merge --chdir="$project" --export=ALL \
  --output="$log_dir/showcase-merge-%j.out" --wrap="$merge_command")"
merge_job="${merge_job%%;*}"
echo "training array $train_job (tasks $indices of $shards shards, $cpus CPUs and $gpus GPUs each), merge $merge_job after it"
echo "rerun one failed index after fixing its cause:"
echo "  INDICES=<index> RETRY_FAILED=1 SHARD_COUNT=$shards $here/submit.sh   (with the same run parameters)"

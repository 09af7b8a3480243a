#!/usr/bin/env bash
# Queues the sharded training as a Slurm array and, after it whatever its outcome (afterany), the
# merge: `npx showcase evaluate` reads every result and lists missing and failed runs.
#   SHARD_COUNT=8 RUN_ID=cluster-full-1 PROFILE=full SEEDS=1,2,3 RUNS_DIR=/shared/runs deploy/slurm/submit.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.." # the project: both jobs run here
shards="${SHARD_COUNT:-8}"
if ! [[ "$shards" =~ ^[1-9][0-9]*$ ]]; then
  echo "submit.sh: SHARD_COUNT=$shards: expected a whole number ≥ 1" >&2
  exit 2
fi
export SHARD_COUNT="$shards"
# Write (or check) runlist.json once on the login node: bad parameters fail here, not in N jobs.
npx showcase train --plan
train_job="$(sbatch --parsable --array="0-$((shards - 1))" --export="ALL,SHARD_COUNT=$shards" "$here/train-array.sbatch")"
train_job="${train_job%%;*}" # --parsable prints "jobid[;cluster]"
merge_job="$(sbatch --parsable --dependency="afterany:$train_job" --job-name=showcase-merge --export=ALL \
  --output=showcase-merge-%j.out --wrap="npx showcase evaluate")"
merge_job="${merge_job%%;*}"
echo "training array $train_job ($shards shards), merge $merge_job after it"
echo "rerun one failed index after fixing its cause:"
echo "  sbatch --array=<index> --export=ALL,SHARD_COUNT=$shards,RETRY_FAILED=1 $here/train-array.sbatch"

#!/usr/bin/env bash
# Runs README.md's Slurm recipe on a real, single-node Slurm and checks the result: installs Debian's
# slurm-wlm and munge, starts munged, slurmctld and slurmd with a minimal slurm.conf for this host
# (all its CPUs, one partition), submits the README's job script (extracted from README.md, as
# written) as a 3-task array and the merge as a job depending on it, waits, and compares the merged
# dataset with a single run of the same scene byte for byte (diff -r). Stops the daemons it started.
# Usage (as root, on Debian 12): scripts/slurm-single-node.sh [WORKDIR]   (default: a new temp dir)
# Exit 0 = identical; anything else = a failure, with the daemons' logs in WORKDIR.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/pinsynth-slurm.XXXXXX")}
mkdir -p "$work"
work=$(cd "$work" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "slurm-single-node: run as root (it installs packages and starts daemons)" >&2; exit 1; }

echo "== install slurm-wlm, munge"
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq slurm-wlm munge >/dev/null
(cd "$repo" && cargo build --release --locked -q)
export PATH="$repo/target/release:$PATH"

echo "== start munged, slurmctld, slurmd"
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop EXIT
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge && chown munge:munge /run/munge
if ! munge -n >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  pids+=("$(cat /run/munge/munged.pid)")
fi
host=$(hostname -s)
mem=$(awk '/MemTotal/ { print int($2 / 1024 * 0.8) }' /proc/meminfo)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd
cat > /etc/slurm/slurm.conf <<CONF
# Written by pinsynth's scripts/slurm-single-node.sh: one node, one partition, no accounting.
ClusterName=pinsynth
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -c
for _ in $(seq 100); do [ -s "$work/slurmctld.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/slurmctld.pid")")
slurmd
for _ in $(seq 100); do [ -s "$work/slurmd.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/slurmd.pid")")
for _ in $(seq 300); do
  sinfo -h -o %T 2>/dev/null | grep -qx idle && break
  sleep 0.2
done
sinfo

echo "== README recipe: 3-task job array, then the merge"
cd "$work"
rm -rf shards dataset single
cp "$repo/scenes/default.toml" scene.toml
# The job script exactly as README.md shows it (the first bash block after "Slurm job array").
awk '/^Slurm job array/ { f = 1 } f && /^```bash/ { n++; if (n == 1) { g = 1; next } } g && /^```/ { exit } g' \
  "$repo/README.md" > render.sh
awk '/^Slurm job array/ { f = 1 } f && /^```bash/ { n++; if (n == 2) { g = 1; next } } g && /^```/ { exit } g' \
  "$repo/README.md" > submit.sh
echo "--- render.sh"; cat render.sh; echo "--- submit.sh (3 tasks: the alternative its comment names)"
sed -i 's/sbatch --parsable render.sh)/sbatch --parsable --array=0-2 render.sh)/' submit.sh
grep -q -- '--array=0-2 render.sh' submit.sh || { echo "slurm-single-node: README's submit line changed; update this script" >&2; exit 1; }
cat submit.sh
start=$(date +%s)
bash -e submit.sh | tee submitted.txt
merge_job=$(awk '/Submitted batch job/ { print $4 }' submitted.txt | tail -1)
for _ in $(seq 1800); do
  state=$(scontrol show job "$merge_job" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
  case "$state" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|"") break ;; esac
  sleep 1
done
echo "merge job $merge_job: ${state:-gone}, $(( $(date +%s) - start )) s after submission"
echo "shards: $(ls shards | tr '\n' ' ')"
[ "$(ls shards | wc -l)" -eq 3 ] || { echo "slurm-single-node: expected 3 shard directories" >&2; exit 1; }
[ "$state" = COMPLETED ] || { echo "slurm-single-node: the merge job ended $state; see $work/*.out and the logs" >&2; cat "$work"/slurm-*.out >&2 || true; exit 1; }

echo "== single run, compared byte for byte"
pinsynth render scene.toml --out single --quiet
diff -r single dataset
echo "slurm-single-node: merged dataset ($(wc -l < dataset/manifest.jsonl) images from 3 array tasks) == single run"

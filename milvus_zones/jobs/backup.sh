#!/bin/sh
# One scheduled backup, then the retention cleanup (runs in the milvus-backup image: busybox sh).
#
# Env: MILVUS_BACKUP (the binary), BACKUP_CONFIG (backup.yaml), BACKUP_NAME_PREFIX, RETENTION_DAYS;
# milvus-backup itself reads MILVUS_PASSWORD (internal/cfg/cfg.go: env beats the file).
#
# milvus-backup keeps every backup forever; this deletes this stack's backups older than
# RETENTION_DAYS with milvus-backup's own `delete` (the whole backup, meta and data), judged by the
# UTC timestamp in the name. It runs only after a successful backup, never deletes the one just
# written, and leaves names it did not make alone. A failure exits non-zero: the Job fails and the
# MilvusBackupFailed alert fires.
set -eu

bin=${MILVUS_BACKUP:-/app/milvus-backup}
config=${BACKUP_CONFIG:?}
prefix=${BACKUP_NAME_PREFIX:?}
days=${RETENTION_DAYS:?}

name="${prefix}_$(date -u +%Y%m%d%H%M)"
echo "creating backup ${name}"
"$bin" create --config "$config" -n "$name"

# `list` prints through cobra's Println, i.e. on stderr, mixed with log lines: keep exact names only.
listing=$("$bin" list --config "$config" 2>&1)
if ! printf '%s\n' "$listing" | grep -qx "$name"; then
    echo "backup ${name} is not listed after create; not cleaning up" >&2
    exit 1
fi

cutoff=$(date -u -d "@$(( $(date -u +%s) - days * 86400 ))" +%Y%m%d%H%M)
deleted=0
for old in $(printf '%s\n' "$listing" | grep -E "^${prefix}_[0-9]{12}\$" || true); do
    stamp=${old##*_}
    if [ "$old" != "$name" ] && [ "$stamp" -lt "$cutoff" ]; then
        echo "deleting ${old}: older than ${days} days"
        "$bin" delete --config "$config" -n "$old"
        deleted=$((deleted + 1))
    fi
done
echo "backup ${name} done; ${deleted} backup(s) past retention deleted"

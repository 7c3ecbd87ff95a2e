# Stops the PostgreSQL clusters that .ci/setup.d/20-postgres.sh started.
for cluster in mlrestart main; do
  version=$(pg_lsclusters -h 2>/dev/null | awk -v c="$cluster" '$2 == c {print $1}' | head -n 1)
  [ -n "$version" ] && pg_ctlcluster "$version" "$cluster" stop 2>/dev/null
done
true

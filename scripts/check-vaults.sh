#!/usr/bin/env bash
# Every inventory vault.yml must be encrypted: as a whole file, or every top-level value `!vault`.
# A plain secret committed by mistake fails `make lint` instead of reaching a remote.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rc=0
while IFS= read -r -d '' file; do
	first=$(head -n 1 "$file")
	[[ $first == "\$ANSIBLE_VAULT"* ]] && continue
	plain=$(grep -nE '^[A-Za-z_][A-Za-z0-9_]*:' "$file" | grep -v ': !vault |' || true)
	if [[ -n $plain ]]; then
		echo "error: $file holds unencrypted values (encrypt with ansible-vault):" >&2
		echo "$plain" | sed 's/:.*//; s/^/  line /' >&2
		rc=1
	fi
done < <(find inventories -name 'vault.yml' -print0)
exit $rc

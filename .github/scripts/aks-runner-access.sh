#!/usr/bin/env bash
# Lets this GitHub-hosted runner reach the AKS API server for the length of a job, and no longer.
# The API server accepts only its authorized IP ranges (the operators', from the Bicep parameter
# apiServerAuthorizedIpRanges); a hosted runner's address changes with every job, so:
#
#   aks-runner-access.sh open    adds <this runner's public IPv4>/32 to the ranges, and writes
#                                RUNNER_API_CIDR to $GITHUB_ENV (first, so `close` runs even when
#                                the update fails half-way)
#   aks-runner-access.sh close   removes $RUNNER_API_CIDR again
#
# Needs AKS_RESOURCE_GROUP and AKS_CLUSTER, and az signed in as an identity that may update the
# cluster (the infrastructure applier; docs/azure-setup.md, "API server access"). It never writes an
# empty list: to AKS that means "every address", the state this exists to prevent.
set -euo pipefail

: "${AKS_RESOURCE_GROUP:?set AKS_RESOURCE_GROUP}" "${AKS_CLUSTER:?set AKS_CLUSTER}"

current_ranges() {
  az aks show --resource-group "$AKS_RESOURCE_GROUP" --name "$AKS_CLUSTER" \
    --query 'apiServerAccessProfile.authorizedIpRanges' -o tsv | tr -d '\r' | sed '/^$/d'
}

set_ranges() {
  echo "setting the authorized ranges of $AKS_CLUSTER to $1"
  az aks update --resource-group "$AKS_RESOURCE_GROUP" --name "$AKS_CLUSTER" \
    --api-server-authorized-ip-ranges "$1" --only-show-errors -o none
}

join_by_comma() {
  local IFS=,
  echo "$*"
}

case "${1:-}" in
  open)
    # Any "what is my address" service will do; the answer is checked before it is used.
    ip=$(curl -fsS --max-time 10 https://api.ipify.org)
    if [[ ! "$ip" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]]; then
      echo "::error::could not learn this runner's public IPv4 address"
      exit 1
    fi
    cidr="$ip/32"
    echo "RUNNER_API_CIDR=$cidr" >> "${GITHUB_ENV:-/dev/null}"
    mapfile -t ranges < <(current_ranges)
    if [ "${#ranges[@]}" -eq 0 ]; then
      echo "::error::$AKS_CLUSTER has no authorized IP ranges, so its API server accepts any address; run the infrastructure workflow (apiServerAuthorizedIpRanges) before deploying"
      exit 1
    fi
    for r in "${ranges[@]}"; do
      if [ "$r" = "$cidr" ]; then
        echo "$cidr is already authorized"
        exit 0
      fi
    done
    set_ranges "$(join_by_comma "${ranges[@]}" "$cidr")"
    ;;
  close)
    cidr="${RUNNER_API_CIDR:?RUNNER_API_CIDR is not set: open did not run}"
    mapfile -t ranges < <(current_ranges)
    keep=()
    for r in "${ranges[@]}"; do
      if [ "$r" != "$cidr" ]; then keep+=("$r"); fi
    done
    if [ "${#keep[@]}" -eq "${#ranges[@]}" ]; then
      echo "$cidr is not in the authorized ranges (already removed)"
      exit 0
    fi
    if [ "${#keep[@]}" -eq 0 ]; then
      echo "::error::removing $cidr would leave no authorized range, which opens the API server to every address; left as it is: set the operators' ranges (infrastructure workflow) and remove it then"
      exit 1
    fi
    set_ranges "$(join_by_comma "${keep[@]}")"
    ;;
  *)
    echo "usage: $0 open|close" >&2
    exit 2
    ;;
esac

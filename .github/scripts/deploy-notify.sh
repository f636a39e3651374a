#!/usr/bin/env bash
# The outcome of every production deploy run, in one line, to the run's step summary always and to
# optional chat webhooks. Run by the notify job of deploy-production.yml with:
#
#   DEPLOY_EXIT     deploy.mts's exit code (empty when the deploy job never ran the deploy)
#   DEPLOY_SUMMARY  deploy.mts's last output line, its one-line summary (may be empty)
#   RUN_URL         link to the run;  SHA  the commit
#   SLACK_WEBHOOK_URL, TEAMS_WEBHOOK_URL   optional secrets; each is skipped when empty
#
# Exit codes of deploy.mts (docs/troubleshooting.md): 0 deployed, 4 failed and rolled back, 2 and 3
# stopped before any change, 1 failed. The webhook URLs are credentials: they go to curl on standard
# input (--config -), never on its command line, and are never printed.
set -euo pipefail

short="${SHA:0:7}"
case "${DEPLOY_EXIT:-}" in
  0) outcome="deployed" ;;
  4) outcome="rolled back" ;;
  2 | 3) outcome="failed before any change" ;;
  "") outcome="failed before any change (tests, image build or preflight did not pass)" ;;
  *) outcome="failed" ;;
esac
# A rollback names the revision production runs now ("rolled back to revision N" in the summary).
revision="$(printf '%s' "${DEPLOY_SUMMARY:-}" | grep -oE 'rolled back to revision [0-9]+' | head -n1 || true)"
line="Production deploy of ${short}: ${outcome}${revision:+ (${revision})}"
detail="${DEPLOY_SUMMARY:-no summary: deploy.mts did not run}"

{
  echo "### ${line}"
  echo
  echo "- deploy.mts exit code: \`${DEPLOY_EXIT:-not run}\`"
  echo "- summary: ${detail}"
  echo "- run: ${RUN_URL}"
} >> "${GITHUB_STEP_SUMMARY:-/dev/stdout}"

post() { # $1 the webhook URL, $2 the JSON body
  printf 'url = "%s"\n' "$1" | curl -fsS --max-time 20 --retry 2 --config - \
    -H 'Content-Type: application/json' --data-binary "$2" -o /dev/null
}

text="${line}. ${detail} ${RUN_URL}"
if [[ -n "${SLACK_WEBHOOK_URL:-}" ]]; then
  # Slack incoming webhooks take {"text": ...} (https://api.slack.com/messaging/webhooks).
  post "$SLACK_WEBHOOK_URL" "$(jq -cn --arg t "$text" '{text: $t}')" && echo "posted to Slack" || echo "::warning::the Slack webhook refused the message"
else
  echo "Slack: skipped (no SLACK_WEBHOOK_URL secret)"
fi
if [[ -n "${TEAMS_WEBHOOK_URL:-}" ]]; then
  # A Teams Workflows webhook ("Post to a channel when a webhook request is received") takes a
  # message with an Adaptive Card attachment.
  body="$(jq -cn --arg t "$text" '{type: "message", attachments: [{contentType: "application/vnd.microsoft.card.adaptive", content: {type: "AdaptiveCard", version: "1.4", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", body: [{type: "TextBlock", text: $t, wrap: true}]}}]}')"
  post "$TEAMS_WEBHOOK_URL" "$body" && echo "posted to Teams" || echo "::warning::the Teams webhook refused the message"
else
  echo "Teams: skipped (no TEAMS_WEBHOOK_URL secret)"
fi

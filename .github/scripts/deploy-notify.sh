#!/usr/bin/env bash
# The outcome of every production deploy run, in one line, to the run's step summary always and to
# optional chat webhooks. Run by the notify job of deploy-production.yml with:
#
#   DEPLOY_EXIT     deploy.mts's exit code (empty when the deploy job never ran the deploy)
#   DEPLOY_SUMMARY  deploy.mts's last output line, its one-line summary (may be empty)
#   RUN_URL         link to the run;  SHA  the commit
#   SLACK_WEBHOOK_URL, TEAMS_WEBHOOK_URL   optional secrets; each is skipped when empty
#   APPLICATIONINSIGHTS_CONNECTION_STRING  optional repository variable: the outcome also goes to
#                   Application Insights as the custom event DeployOutcome, which the Bicep rule
#                   <appInsightsName>-deploy-outcome e-mails to the action group (bicep/modules/
#                   deploy-events.bicep). Needs `az` signed in as the deploy identity (Monitoring
#                   Metrics Publisher on the component; the component accepts Entra ID only).
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
outcome_text="${outcome}${revision:+ (${revision})}"
line="Production deploy of ${short}: ${outcome_text}"
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

# The outcome as an Application Insights custom event (the track API's envelope: name
# Microsoft.ApplicationInsights.Event, baseType EventData, the event name and string properties).
# The bearer token is a credential: like the webhook URLs it reaches curl on standard input.
track_event() {
  local ikey endpoint token body response
  ikey="$(printf '%s' "$APPLICATIONINSIGHTS_CONNECTION_STRING" | tr ';' '\n' | sed -n 's/^InstrumentationKey=//p' | head -n1)"
  endpoint="$(printf '%s' "$APPLICATIONINSIGHTS_CONNECTION_STRING" | tr ';' '\n' | sed -n 's/^IngestionEndpoint=//p' | head -n1)"
  if [[ -z "$ikey" || -z "$endpoint" ]]; then
    echo "::warning::APPLICATIONINSIGHTS_CONNECTION_STRING has no InstrumentationKey or IngestionEndpoint: no e-mail of this outcome"
    return 0
  fi
  if ! token="$(az account get-access-token --resource https://monitor.azure.com --query accessToken -o tsv 2>/dev/null)" || [[ -z "$token" ]]; then
    echo "::warning::no Azure sign-in for Application Insights (azure/login as the deploy identity): no e-mail of this outcome"
    return 0
  fi
  body="$(jq -cn --arg ikey "$ikey" --arg time "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" \
    --arg outcome "$outcome_text" --arg commit "$short" --arg run "$RUN_URL" --arg code "${DEPLOY_EXIT:-not run}" \
    --arg revision "${revision##* }" --arg summary "$detail" \
    '{name: "Microsoft.ApplicationInsights.Event", time: $time, iKey: $ikey,
      data: {baseType: "EventData", baseData: {ver: 2, name: "DeployOutcome", properties: {
        Outcome: $outcome, Commit: $commit, Run: $run, ExitCode: $code, Revision: $revision, Summary: $summary}}}}')"
  # The ingestion API answers 200 with {"itemsReceived":1,"itemsAccepted":1,...} when it took the event.
  if response="$(printf 'url = "%s/v2.1/track"\nheader = "Authorization: Bearer %s"\n' "${endpoint%/}" "$token" |
      curl -fsS --max-time 20 --retry 2 --config - -H 'Content-Type: application/json' --data-binary "$body")" &&
    [[ "$(printf '%s' "$response" | jq -r '.itemsAccepted // 0' 2>/dev/null)" == 1 ]]; then
    echo "sent to Application Insights (DeployOutcome): the action group e-mails it within about 10 minutes"
  else
    echo "::warning::Application Insights refused the DeployOutcome event: no e-mail of this outcome"
  fi
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
if [[ -n "${APPLICATIONINSIGHTS_CONNECTION_STRING:-}" ]]; then
  track_event
else
  echo "E-mail: skipped (no APPLICATIONINSIGHTS_CONNECTION_STRING variable)"
fi

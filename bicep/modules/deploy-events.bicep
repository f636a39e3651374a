// The outcome of every production deploy run, by e-mail through the existing action group.
//
// Why this shape: the deploy workflow's notify job already decides the outcome of every run (deployed,
// rolled back to revision N, failed before any change), including the runs that never reach the
// cluster (tests, image build or preflight failed) and the ones whose deploy job was cancelled. It
// sends that outcome as one Application Insights custom event (.github/scripts/deploy-notify.sh,
// signed in as the deploy identity, which holds Monitoring Metrics Publisher on the component: local
// authentication is off). The event lands in the workspace's AppEvents table, and the rule below
// e-mails each one through the action group. A Kubernetes Event recorded by deploy.mts was the
// alternative, but it cannot report a run that failed before reaching the cluster, the notify job's
// runner is not on the API server's authorized ranges, and Container Insights collects no Normal
// events unless the agent's ConfigMap sets [log_collection_settings.collect_all_kube_events] (every
// Normal event of the cluster, against the 1 GB daily cap).
//
// Latency: ingestion takes typically 20 s to 3 minutes ("Log data ingestion time in Azure Monitor"),
// the rule runs every 5 minutes, so the e-mail follows the run by about 1 to 9 minutes plus delivery.

@description('Azure region of the alert rule (the workspace\'s region).')
param location string

@description('Tags for every resource in this module.')
param tags object

@description('Resource id of the Log Analytics workspace that holds Application Insights\' AppEvents.')
@minLength(1)
param workspaceId string

@description('Resource id of the Application Insights component the deploy workflow sends its outcome events to.')
@minLength(1)
param appInsightsId string

@description('Resource id of the action group whose e-mail receivers get each outcome.')
@minLength(1)
param actionGroupId string

@description('Name of the custom event .github/scripts/deploy-notify.sh sends (a test keeps the two equal).')
@minLength(1)
param eventName string

// Each event is counted by exactly one evaluation: the one that follows its ingestion (ingestion_time()
// within the last 5 minutes, the evaluation frequency). The query's time range, 15 minutes on
// TimeGenerated, leaves an event up to 10 minutes of ingestion delay; windows of 5 and 5 would lose
// every event ingested a little after the evaluation that its time falls into. ingestion_time() is
// refused only at a 1-minute frequency ("Create or edit a log search alert rule", Azure Monitor docs).
var outcomeQuery = join([
  'AppEvents'
  '| where Name == \'${eventName}\' and _ResourceId =~ \'${appInsightsId}\''
  '| where ingestion_time() > ago(5m)'
  '| project TimeGenerated, Outcome = tostring(Properties.Outcome), Commit = tostring(Properties.Commit), Run = tostring(Properties.Run)'
], ' ')

resource deployOutcomeAlert 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = {
  name: '${last(split(appInsightsId, '/'))}-deploy-outcome'
  location: location
  tags: tags
  properties: {
    displayName: 'Production deploy outcome'
    description: 'One e-mail per production deploy run: deployed, rolled back (with the revision production runs now) or failed before any change; the dimensions Outcome, Commit and Run say which. Runbook: docs/runbooks.md, "Deploy outcome e-mail".'
    // Informational: a failure also opens a GitHub issue, and the rollout-failure alert covers the cluster.
    severity: 3
    enabled: true
    scopes: [
      workspaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: outcomeQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          // One alert, so one e-mail, per run, with the outcome line in the e-mail's dimensions.
          dimensions: [
            {
              name: 'Outcome'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'Commit'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'Run'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    // Stateless: a stateful rule would send a second e-mail ("Resolved") once the event leaves the window.
    autoMitigate: false
    actions: {
      actionGroups: [
        actionGroupId
      ]
    }
  }
}

@description('Name of the deploy outcome alert rule.')
output ruleName string = deployOutcomeAlert.name

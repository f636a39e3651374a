// Measured availability: a workspace-based Application Insights resource, a standard availability
// test of the API's health endpoint from five regions every 5 minutes, and the plan's alert
// "health check failures > 3 in 5 minutes". scripts/slo.mts reads the same results to report the
// 99.9% objective and its error budget.

@description('Azure region of Application Insights, the web test and the alert rule (the workspace\'s region).')
param location string

@description('Tags for every resource in this module.')
param tags object

@description('Application Insights resource name (scripts/slo.mts reads it from the deployment output appInsightsName).')
@minLength(1)
@maxLength(255)
param appInsightsName string

@description('Resource id of the Log Analytics workspace the Application Insights data lands in.')
@minLength(1)
param workspaceId string

@description('Absolute URL of the API health endpoint, e.g. https://todo.example.com/api/health.')
@minLength(10)
param healthCheckUrl string

@description('Resource id of the action group the availability alert notifies.')
@minLength(1)
param actionGroupId string

@description('Create the availability alert rule (the web test always runs, so slo.mts has data).')
param enableAlerts bool

// Availability test locations by their test-location ids ("Availability tests", Azure Monitor docs,
// "Location population tags"): East US, West US, South Central US, North Europe, West Europe. Five,
// not three: one 5-minute window then holds five results, so "more than 3 failed" means at least
// four of five regions failed, which one flaky probe region cannot cause alone.
var testLocations = [
  'us-va-ash-azr'
  'us-ca-sjc-azr'
  'us-tx-sn1-azr'
  'emea-gb-db3-azr'
  'emea-nl-ams-azr'
]

var webTestName = '${appInsightsName}-api-health'

// 2020-02-02 is the newest stable components version (listed in NO_NEWER_STABLE in test/bicep.test.ts).
resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    // Workspace-based: results go to the existing Log Analytics workspace (table AppAvailabilityResults),
    // where the alert below queries them and the workspace's retention and daily cap apply.
    WorkspaceResourceId: workspaceId
    IngestionMode: 'LogAnalytics'
    // Sign-in only: nothing may send telemetry with the bare instrumentation key.
    DisableLocalAuth: true
  }
}

// 2022-06-15 is the newest stable webtests version and the first with kind 'standard'
// (listed in NO_NEWER_STABLE in test/bicep.test.ts).
resource healthTest 'Microsoft.Insights/webtests@2022-06-15' = {
  name: webTestName
  location: location
  // The portal shows a web test under the component that carries this hidden-link tag.
  tags: union(tags, {
    'hidden-link:${appInsights.id}': 'Resource'
  })
  kind: 'standard'
  properties: {
    SyntheticMonitorId: webTestName
    // The name every result carries (AppAvailabilityResults.Name, availabilityResults.name).
    Name: webTestName
    Description: 'GET /api/health from five regions; passes on 200 with "healthy" in the body.'
    Enabled: true
    Kind: 'standard'
    // Seconds between runs per location: the plan's 5 minutes.
    Frequency: 300
    Timeout: 30
    // A failed run is retried once within the run, so a single dropped packet is not counted.
    RetryEnabled: true
    Locations: [
      for id in testLocations: {
        Id: id
      }
    ]
    Request: {
      RequestUrl: healthCheckUrl
      HttpVerb: 'GET'
      ParseDependentRequests: false
      FollowRedirects: false
    }
    ValidationRules: {
      ExpectedHttpStatusCode: 200
      // The spelling of webTests_API.json 2022-06-15 (azure-rest-api-specs); "IgnoreHttpStatusCode"
      // is no property of this version and would be dropped.
      IgnoreHttpsStatusCode: false
      ContentValidation: {
        ContentMatch: 'healthy'
        IgnoreCase: false
        PassIfTextFound: true
      }
      SSLCheck: true
      // Also fails a week before the certificate expires (docs/runbooks.md, "Renew the TLS certificate").
      SSLCertRemainingLifetimeCheck: 7
    }
  }
}

// The plan's rule "health check failures > 3 in 5 minutes", counted over the web test's own results
// in the workspace (AppAvailabilityResults, the workspace-based form of availabilityResults).
resource availabilityAlert 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = if (enableAlerts) {
  name: '${appInsightsName}-health-check-failures'
  location: location
  tags: tags
  properties: {
    displayName: 'Health check failures'
    description: 'More than 3 availability checks of /api/health failed in 5 minutes. Runbook: docs/runbooks.md, "Availability alert fired".'
    severity: 0
    enabled: true
    scopes: [
      workspaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'AppAvailabilityResults | where Name == "${webTestName}" and Success == false'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 3
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroupId
      ]
    }
  }
}

@description('Application Insights resource name (the --app of az monitor app-insights query).')
output appInsightsName string = appInsights.name

@description('Resource id of Application Insights (the deploy outcome events and their alert rule use it).')
output appInsightsId string = appInsights.id

@description('Web test name; its results carry this name in AppAvailabilityResults.Name and availabilityResults.name.')
output webTestName string = healthTest.name

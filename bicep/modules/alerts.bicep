// The alerts the plan set up by hand in the portal, as code: node CPU and memory, failed and
// crash-looping pods, nodes not ready, all sent to one action group.

@description('Azure region of the log alert (it must match the workspace).')
param location string

@description('Tags for every resource in this module.')
param tags object

@description('Resource id of the AKS cluster the metric alerts watch.')
@minLength(1)
param clusterId string

@description('Resource id of the Log Analytics workspace the crash-loop alert queries.')
@minLength(1)
param workspaceId string

@description('Address the action group e-mails.')
@minLength(3)
param alertEmail string

@description('Action group name.')
@minLength(1)
@maxLength(260)
param actionGroupName string

@description('Create the alert rules (the action group is always created).')
param enableAlerts bool

@description('Kubernetes namespace of the app\'s release (kube.namespace in environments/<env>.yaml): every ReplicaSet there belongs to it.')
@minLength(1)
@maxLength(63)
param appNamespace string

// A change rolls out new pods; the rollout has failed when a pod created in the last hour is stuck in
// a container error (crash loop, image pull, bad config), still Pending 10 minutes after creation
// (unschedulable; 10 minutes leaves the cluster autoscaler its 3-5 minutes to add a node), or Running
// but never ready. Pods of ReplicaSets only, so the Deployments' pods, in the release's own namespace.
// The latest row per pod and container in the window decides, so a pod that recovered stops counting.
//
// Never ready: KubePodInventory has no readiness column (ContainerStatus is running, no waiting
// reason, no restart), so the kubelet's Warning events decide: Reason Unhealthy with a message that
// starts "Readiness probe" (prober.go: "%s probe failed: %s" / "%s probe errored: %v"). Container
// Insights collects Warning events by default (only Normal ones need collect_all_kube_events). The pod
// counts when its readiness failures span more than 5 minutes and went on in the last 10. A normal
// rolling update never gets there: readiness runs only after the startup probe passed, a healthy pod is
// ready within seconds of that, and the chart's progressDeadlineSeconds (240 s, below the 5 minutes)
// already declares a rollout failed that waits longer (test/bicep.test.ts compares the two). An old pod
// failing readiness while it terminates is neither new nor failing for minutes. The kubelet's event
// spam filter lets one event per pod through every 5 minutes after a burst of 25, so LastSeen may lag
// by up to 5 minutes: hence "in the last 10".
var rolloutFailureQuery = join([
  'KubePodInventory'
  '| where Namespace == \'${appNamespace}\' and ControllerKind == \'ReplicaSet\' and PodCreationTimeStamp > ago(1h)'
  '| summarize arg_max(TimeGenerated, PodStatus, ContainerStatusReason, PodCreationTimeStamp, ControllerName, Name) by PodUid, ContainerName'
  '| join kind=leftouter (KubeEvents | where Namespace == \'${appNamespace}\' and ObjectKind =~ \'Pod\' and Reason == \'Unhealthy\' and Message startswith \'Readiness probe\' | summarize FirstUnready = min(FirstSeen), LastUnready = max(LastSeen) by Name) on Name'
  '| where ContainerStatusReason in (\'CrashLoopBackOff\', \'ImagePullBackOff\', \'ErrImagePull\', \'CreateContainerConfigError\', \'CreateContainerError\', \'RunContainerError\') or (PodStatus == \'Pending\' and PodCreationTimeStamp < ago(10m)) or (PodStatus == \'Running\' and LastUnready - FirstUnready > 5m and LastUnready > ago(10m))'
  '| summarize FailingPods = dcount(PodUid) by ControllerName'
], ' ')

// AKS platform metrics: free, and present without Container Insights or Prometheus.
var aksMetricNamespace = 'Microsoft.ContainerService/managedClusters'

var metricAlerts = [
  {
    name: 'node-cpu-high'
    description: 'A node\'s CPU use averaged above 80% over 15 minutes.'
    severity: 2
    metricName: 'node_cpu_usage_percentage'
    operator: 'GreaterThan'
    threshold: 80
    timeAggregation: 'Average'
    // The plan's "for 10 minutes": metric alerts accept only PT1M, PT5M, PT15M, PT30M, PT1H, PT6H,
    // PT12H or P1D windows (PT10M is refused), so the nearest sustained window, re-evaluated every 5.
    windowSize: 'PT15M'
    evaluationFrequency: 'PT5M'
    // Split by node so one hot node alerts even when the cluster average is low.
    dimensions: [
      {
        name: 'node'
        operator: 'Include'
        values: [
          '*'
        ]
      }
    ]
  }
  {
    name: 'node-memory-high'
    description: 'A node\'s working-set memory averaged above 85% over 15 minutes.'
    severity: 2
    metricName: 'node_memory_working_set_percentage'
    operator: 'GreaterThan'
    threshold: 85
    timeAggregation: 'Average'
    windowSize: 'PT15M'
    evaluationFrequency: 'PT5M'
    dimensions: [
      {
        name: 'node'
        operator: 'Include'
        values: [
          '*'
        ]
      }
    ]
  }
  {
    name: 'pods-failed'
    description: 'At least one pod is in the Failed phase.'
    severity: 1
    metricName: 'kube_pod_status_phase'
    operator: 'GreaterThan'
    threshold: 0
    timeAggregation: 'Average'
    windowSize: 'PT5M'
    evaluationFrequency: 'PT1M'
    dimensions: [
      {
        name: 'phase'
        operator: 'Include'
        values: [
          'Failed'
        ]
      }
      {
        name: 'namespace'
        operator: 'Include'
        values: [
          '*'
        ]
      }
    ]
  }
  {
    name: 'nodes-not-ready'
    description: 'At least one node reports NotReady or Unknown.'
    severity: 1
    metricName: 'kube_node_status_condition'
    operator: 'GreaterThan'
    threshold: 0
    timeAggregation: 'Total'
    windowSize: 'PT5M'
    evaluationFrequency: 'PT1M'
    // status2 carries the Ready condition's value (Azure Monitor baseline alert for AKS).
    dimensions: [
      {
        name: 'status2'
        operator: 'Include'
        values: [
          'NotReady'
          'Unknown'
        ]
      }
    ]
  }
]

resource actionGroup 'Microsoft.Insights/actionGroups@2026-09-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    // Shown as the sender of SMS and e-mail; at most 12 characters.
    groupShortName: 'todo-alerts'
    enabled: true
    emailReceivers: [
      {
        name: 'operator-email'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource aksMetricAlerts 'Microsoft.Insights/metricAlerts@2026-06-01' = [
  for alert in metricAlerts: if (enableAlerts) {
    name: '${last(split(clusterId, '/'))}-${alert.name}'
    location: 'global'
    tags: tags
    properties: {
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [
        clusterId
      ]
      evaluationFrequency: alert.evaluationFrequency
      windowSize: alert.windowSize
      autoMitigate: true
      criteria: {
        'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
        allOf: [
          {
            criterionType: 'StaticThresholdCriterion'
            name: alert.name
            metricNamespace: aksMetricNamespace
            metricName: alert.metricName
            operator: alert.operator
            threshold: alert.threshold
            timeAggregation: alert.timeAggregation
            dimensions: alert.dimensions
          }
        ]
      }
      actions: [
        {
          actionGroupId: actionGroup.id
        }
      ]
    }
  }
]

// Crash-looping containers stay in the Running or Pending phase, so no platform metric shows them;
// Container Insights records the waiting reason in KubePodInventory.
resource crashLoopAlert 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = if (enableAlerts) {
  name: '${last(split(clusterId, '/'))}-pods-crash-looping'
  location: location
  tags: tags
  properties: {
    displayName: 'Pods crash-looping'
    description: 'A container has been in CrashLoopBackOff in the last 10 minutes.'
    severity: 1
    enabled: true
    scopes: [
      workspaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT10M'
    criteria: {
      allOf: [
        {
          query: 'KubePodInventory | where ContainerStatusReason == "CrashLoopBackOff" | summarize Containers = dcount(ContainerName) by Namespace, PodName = Name'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'Namespace'
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
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// The plan's second missing alert: a rollout of the release that stops progressing or crash-loops
// after a change. One alert per failing ReplicaSet (the new revision's pods), so it names the change.
resource rolloutFailureAlert 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = if (enableAlerts) {
  name: '${last(split(clusterId, '/'))}-rollout-failed'
  location: location
  tags: tags
  properties: {
    displayName: 'Rollout failed'
    description: 'New pods of the release (created in the last hour) crash-loop, cannot pull or start, stay Pending for 10 minutes, or run without becoming ready for more than 5 minutes. Runbook: docs/runbooks.md, "Rollout-failure alert fired".'
    severity: 1
    enabled: true
    scopes: [
      workspaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: rolloutFailureQuery
          timeAggregation: 'Total'
          metricMeasureColumn: 'FailingPods'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'ControllerName'
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
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

@description('Resource id of the action group.')
output actionGroupId string = actionGroup.id

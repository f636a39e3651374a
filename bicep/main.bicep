// Subscription-scope entry point: creates the resource group and calls one module per concern.
// Deploy with scripts/setup.mts (what-if, confirm, create); see docs/azure-setup.md for every parameter.
targetScope = 'subscription'

// ---------------------------------------------------------------------------------------------
// Naming and placement
// ---------------------------------------------------------------------------------------------

@description('Environment this deployment is for. There is no default: production must be asked for by name.')
@allowed([
  'production'
  'staging'
])
param environmentName string

@description('Stem every derived resource name starts with (letters, digits and dashes).')
@minLength(3)
@maxLength(20)
param baseName string = 'hackathon-todo'

@description('Azure region for every resource. Defaults to the region the deployment itself runs in (az deployment sub create --location).')
@minLength(3)
param location string = deployment().location

@description('Resource group that holds the cluster, registry, workspace, identities and alerts: azure.resourceGroup in environments/<env>.yaml (no default, so the name is written once).')
@minLength(1)
@maxLength(90)
param resourceGroupName string

@description('AKS cluster name; also its DNS prefix and the kube context name that az aks get-credentials writes: azure.cluster in environments/<env>.yaml (no default).')
@minLength(1)
@maxLength(63)
param clusterName string

@description('Container registry name: 5-50 letters and digits, globally unique (it becomes <name>.azurecr.io): azure.registry in environments/<env>.yaml (no default).')
@minLength(5)
@maxLength(50)
param registryName string

@description('Log Analytics workspace name for Container Insights and the crash-loop log alert: azure.logAnalyticsWorkspace in environments/<env>.yaml (no default).')
@minLength(4)
@maxLength(63)
param logAnalyticsWorkspaceName string

@description('Key Vault name (3-24 characters, globally unique). Empty string deploys no Key Vault; the app secrets then come from .env only.')
@maxLength(24)
param keyVaultName string = ''

@description('Tags added to every resource, on top of environment, workload and managedBy.')
param tags object = {}

// ---------------------------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------------------------

@description('Kubernetes minor version, e.g. 1.34 (list them with az aks get-versions --location <region> -o table). Patch releases arrive through the patch upgrade channel; raise the minor version here deliberately.')
@minLength(4)
@maxLength(7)
param kubernetesVersion string

@description('AKS pricing tier. Standard carries the uptime SLA the 99.9% goal relies on; Free has none.')
@allowed([
  'Free'
  'Standard'
])
param aksTier string = 'Standard'

@description('VM size of the node pool: azure.nodeSize in environments/<env>.yaml, which the parameters file reads. No default, so the size is written in one place.')
@allowed([
  'Standard_D2s_v3'
  'Standard_D4s_v3'
  'Standard_D2s_v5'
  'Standard_D4s_v5'
  'Standard_D2as_v5'
  'Standard_D4as_v5'
])
param nodeVmSize string

@description('Fewest nodes the cluster autoscaler keeps: azure.nodeCount.min in environments/<env>.yaml (no default).')
@minValue(1)
@maxValue(10)
param nodeMinCount int

@description('Most nodes the cluster autoscaler may add: azure.nodeCount.max in environments/<env>.yaml (no default). Check the regional vCPU quota covers it.')
@minValue(1)
@maxValue(20)
param nodeMaxCount int

@description('Availability zones for the node pool, e.g. [\'1\', \'2\', \'3\']. Empty places nodes without zones, for regions that have none.')
param availabilityZones array = []

@description('Disable the cluster\'s local (certificate) accounts so every kubectl user signs in with Entra ID. True needs kubelogin on every client.')
param disableLocalAccounts bool = true

@description('Object ids of Entra ID groups whose members get cluster-admin through Entra ID integration. Empty: grant access with Azure RBAC role assignments only.')
param clusterAdminGroupObjectIds array = []

@description('CIDR ranges allowed to reach the public API server: the operators\' and any fixed runners\' addresses. At least one, and no default: an empty list would let any address reach it. GitHub-hosted runners are added for the length of a deploy job (docs/azure-setup.md, "API server access").')
@minLength(1)
param apiServerAuthorizedIpRanges array

@description('AKS automatic Kubernetes upgrade channel. patch keeps the minor version of kubernetesVersion and applies its patch releases.')
@allowed([
  'none'
  'patch'
  'stable'
  'rapid'
  'node-image'
])
param upgradeChannel string = 'patch'

@description('How node OS images are kept current.')
@allowed([
  'None'
  'Unmanaged'
  'NodeImage'
  'SecurityPatch'
])
param nodeOsUpgradeChannel string = 'NodeImage'

@description('Day of the weekly maintenance window in which AKS may apply automatic upgrades.')
@allowed([
  'Monday'
  'Tuesday'
  'Wednesday'
  'Thursday'
  'Friday'
  'Saturday'
  'Sunday'
])
param maintenanceDay string = 'Sunday'

@description('Start time of the maintenance window, HH:mm in maintenanceUtcOffset.')
@minLength(5)
@maxLength(5)
param maintenanceStartTime string = '02:00'

@description('UTC offset the maintenance window is expressed in, +HH:mm or -HH:mm.')
@minLength(6)
@maxLength(6)
param maintenanceUtcOffset string = '+00:00'

@description('Length of the maintenance window in hours (AKS requires at least 4).')
@minValue(4)
@maxValue(24)
param maintenanceDurationHours int = 4

// ---------------------------------------------------------------------------------------------
// Registry, logs, secrets
// ---------------------------------------------------------------------------------------------

@description('Container registry SKU. Basic holds the two app images cheaply; Premium adds geo-replication and private endpoints.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param registrySku string = 'Basic'

@description('Days Log Analytics keeps data. 30 is the smallest value a pay-as-you-go (PerGB2018) workspace accepts, and the first 31 days cost nothing beyond ingestion.')
@minValue(30)
@maxValue(90)
param logRetentionDays int = 30

@description('Daily ingestion cap of the Log Analytics workspace in GB; ingestion stops for the day when it is reached, so a log storm cannot blow the budget.')
@minValue(1)
@maxValue(50)
param logDailyCapGb int = 1

@description('Kubernetes namespace of the service account that syncs Key Vault secrets into the cluster (used only with a Key Vault): the app\'s namespace, kube.namespace in environments/<env>.yaml.')
@minLength(1)
@maxLength(63)
param vaultReaderNamespace string

@description('Kubernetes namespace of the app\'s release (kube.namespace in environments/<env>.yaml): the rollout-failure alert watches the ReplicaSets there.')
@minLength(1)
@maxLength(63)
param appNamespace string

@description('Kubernetes service account that syncs Key Vault secrets into the cluster through workload identity (used only with a Key Vault).')
@minLength(1)
@maxLength(253)
param vaultReaderServiceAccount string = 'secret-sync'

// ---------------------------------------------------------------------------------------------
// GitHub OIDC
// ---------------------------------------------------------------------------------------------

@description('GitHub repository the deploy workflow runs in, as owner/name. Its main branch and its deployment environment may sign in as the deploy identity.')
@minLength(3)
@maxLength(140)
param githubRepository string

@description('GitHub deployment environment trusted by the deploy identity (the deploy job sets environment: <this>).')
@minLength(1)
@maxLength(255)
param githubEnvironment string = environmentName

// ---------------------------------------------------------------------------------------------
// Cost and alerting
// ---------------------------------------------------------------------------------------------

@description('Address that receives budget and monitoring alerts.')
@minLength(3)
@maxLength(254)
param alertEmail string

@description('Monthly spend levels in USD that each send an alert (the plan: 50, 100, 150). One budget per level.')
@minLength(1)
param budgetAmounts array = [
  50
  100
  150
]

@description('The monthly estimate in USD from docs/cost.md ("Azure total"); a forecast-only budget e-mails when the month\'s forecast exceeds it. 0 creates none. A test keeps it equal to the document.')
@minValue(0)
@maxValue(100000)
param budgetForecastAmount int = 330

@description('First day the budgets count from, YYYY-MM-01. Azure refuses to change a budget\'s start date, so keep the value of the first deployment forever.')
@minLength(10)
@maxLength(10)
param budgetStartDate string

@description('Send the cluster\'s metric and log alerts. False keeps the action group but creates no alert rules.')
param enableAlerts bool = true

@description('E-mail the outcome of every production deploy run (deployed, rolled back, failed before any change) to the action group: a log alert on the custom event the deploy workflow sends to Application Insights, and the deploy identity\'s right to send it. The workflow sends it only when the repository variable APPLICATIONINSIGHTS_CONNECTION_STRING is set (docs/deployment-workflow.md).')
param deployOutcomeEmails bool = true

// ---------------------------------------------------------------------------------------------
// Availability (Application Insights)
// ---------------------------------------------------------------------------------------------

@description('Application Insights resource that holds the availability test results (workspace-based, on the Log Analytics workspace).')
@minLength(1)
@maxLength(255)
param appInsightsName string = '${baseName}-${environmentName}-insights'

@description('Absolute URL of the API health endpoint the availability test calls: the environment\'s url (environments/<env>.yaml) followed by /api/health. A test keeps the two equal.')
@minLength(10)
@maxLength(2048)
param healthCheckUrl string

// ---------------------------------------------------------------------------------------------
// Derived values
// ---------------------------------------------------------------------------------------------

var commonTags = union(tags, {
  environment: environmentName
  workload: baseName
  managedBy: 'bicep'
})

// AKS's own default name for the node resource group, spelled out so the budget can filter on it
// (the VMs, disks and load balancer are billed there, not in resourceGroupName).
var nodeResourceGroupName = 'MC_${resourceGroupName}_${clusterName}_${location}'

var deployKeyVault = !empty(keyVaultName)

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: resourceGroupName
  location: location
  tags: commonTags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: commonTags
    workspaceName: logAnalyticsWorkspaceName
    retentionInDays: logRetentionDays
    dailyCapGb: logDailyCapGb
    clusterName: clusterName
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    location: location
    tags: commonTags
    clusterName: clusterName
    githubIdentityName: '${baseName}-${environmentName}-github'
    githubRepository: githubRepository
    githubEnvironment: githubEnvironment
  }
}

module acr 'modules/acr.bicep' = {
  name: 'acr'
  scope: rg
  params: {
    location: location
    tags: commonTags
    registryName: registryName
    sku: registrySku
  }
}

module aks 'modules/aks.bicep' = {
  name: 'aks'
  scope: rg
  params: {
    location: location
    tags: commonTags
    clusterName: clusterName
    kubernetesVersion: kubernetesVersion
    tier: aksTier
    nodeVmSize: nodeVmSize
    nodeMinCount: nodeMinCount
    nodeMaxCount: nodeMaxCount
    availabilityZones: availabilityZones
    nodeResourceGroupName: nodeResourceGroupName
    controlPlaneIdentityId: identity.outputs.controlPlaneIdentityId
    disableLocalAccounts: disableLocalAccounts
    adminGroupObjectIds: clusterAdminGroupObjectIds
    apiServerAuthorizedIpRanges: apiServerAuthorizedIpRanges
    upgradeChannel: upgradeChannel
    nodeOsUpgradeChannel: nodeOsUpgradeChannel
    maintenanceDay: maintenanceDay
    maintenanceStartTime: maintenanceStartTime
    maintenanceUtcOffset: maintenanceUtcOffset
    maintenanceDurationHours: maintenanceDurationHours
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    dataCollectionRuleId: monitoring.outputs.dataCollectionRuleId
  }
}

module keyVault 'modules/keyvault.bicep' = if (deployKeyVault) {
  name: 'keyvault'
  scope: rg
  params: {
    location: location
    tags: commonTags
    keyVaultName: keyVaultName
    vaultReaderIdentityName: '${baseName}-${environmentName}-vault-reader'
    oidcIssuerUrl: aks.outputs.oidcIssuerUrl
    vaultReaderNamespace: vaultReaderNamespace
    vaultReaderServiceAccount: vaultReaderServiceAccount
  }
}

module roleAssignments 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  scope: rg
  params: {
    clusterName: aks.outputs.clusterName
    registryName: acr.outputs.registryName
    kubeletObjectId: aks.outputs.kubeletObjectId
    githubPrincipalId: identity.outputs.githubPrincipalId
    keyVaultName: keyVaultName
    vaultReaderPrincipalId: deployKeyVault ? keyVault!.outputs.vaultReaderPrincipalId : ''
    appInsightsName: availability.outputs.appInsightsName
    deployOutcomeEvents: deployOutcomeEmails
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: commonTags
    clusterId: aks.outputs.clusterId
    workspaceId: monitoring.outputs.workspaceId
    alertEmail: alertEmail
    actionGroupName: '${baseName}-${environmentName}-alerts'
    enableAlerts: enableAlerts
    appNamespace: appNamespace
  }
}

module availability 'modules/availability.bicep' = {
  name: 'availability'
  scope: rg
  params: {
    location: location
    tags: commonTags
    appInsightsName: appInsightsName
    workspaceId: monitoring.outputs.workspaceId
    healthCheckUrl: healthCheckUrl
    actionGroupId: alerts.outputs.actionGroupId
    enableAlerts: enableAlerts
  }
}

// The custom event's name: .github/scripts/deploy-notify.sh sends the same (a test keeps them equal).
var deployOutcomeEventName = 'DeployOutcome'

module deployEvents 'modules/deploy-events.bicep' = if (deployOutcomeEmails) {
  name: 'deploy-events'
  scope: rg
  params: {
    location: location
    tags: commonTags
    workspaceId: monitoring.outputs.workspaceId
    appInsightsId: availability.outputs.appInsightsId
    actionGroupId: alerts.outputs.actionGroupId
    eventName: deployOutcomeEventName
  }
}

module budget 'modules/budget.bicep' = {
  name: 'budget'
  params: {
    budgetNamePrefix: '${baseName}-${environmentName}'
    amounts: budgetAmounts
    forecastAmount: budgetForecastAmount
    startDate: budgetStartDate
    contactEmail: alertEmail
    resourceGroupNames: [
      rg.name
      nodeResourceGroupName
    ]
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs read by scripts/setup.mts (properties.outputs.<name>.value). None of them is a secret.
// ---------------------------------------------------------------------------------------------

@description('Resource group the deployment created or updated.')
output resourceGroupName string = rg.name

@description('AKS cluster name, for az aks get-credentials.')
output clusterName string = aks.outputs.clusterName

@description('Container registry name, for az acr login.')
output registryName string = acr.outputs.registryName

@description('Registry login server (<name>.azurecr.io) that image references start with.')
output registryLoginServer string = acr.outputs.loginServer

@description('Client id of the GitHub OIDC identity: the AZURE_CLIENT_ID the workflows pass to azure/login. An identifier, not a credential.')
output githubIdentityClientId string = identity.outputs.githubClientId

@description('Key Vault URI, or an empty string when no Key Vault was deployed.')
output keyVaultUri string = deployKeyVault ? keyVault!.outputs.vaultUri : ''

@description('Client id of the workload identity that reads Key Vault secrets, or an empty string without a Key Vault.')
output vaultReaderClientId string = deployKeyVault ? keyVault!.outputs.vaultReaderClientId : ''

@description('Log Analytics workspace that Container Insights writes to.')
output logAnalyticsWorkspaceName string = monitoring.outputs.workspaceName

@description('Application Insights resource name: scripts/slo.mts passes it to az monitor app-insights query --app.')
output appInsightsName string = availability.outputs.appInsightsName

@description('Name of the availability test; its results carry it in the name column.')
output webTestName string = availability.outputs.webTestName

@description('OIDC issuer URL of the cluster, for further workload identity federations.')
output oidcIssuerUrl string = aks.outputs.oidcIssuerUrl

@description('True when local accounts are disabled, so kubeconfigs need kubelogin convert-kubeconfig.')
output localAccountsDisabled bool = disableLocalAccounts

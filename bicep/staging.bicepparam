// Staging: the same shape as production, smaller and cheaper. Names, region, sizes, the Kubernetes
// minor, the namespace and the URL come from environments/staging.yaml (see production.bicepparam for
// why the parameters file reads the YAML). Reads GITHUB_REPOSITORY, ALERT_EMAIL,
// AKS_API_AUTHORIZED_IP_RANGES and (optionally) AZURE_KEY_VAULT_NAME like production.
using './main.bicep'

var env = loadYamlContent('../environments/staging.yaml')

param environmentName = env.name
param location = env.azure.location
param resourceGroupName = env.azure.resourceGroup
param clusterName = env.azure.cluster
param registryName = env.azure.registry
param logAnalyticsWorkspaceName = env.azure.logAnalyticsWorkspace
param keyVaultName = readEnvironmentVariable('AZURE_KEY_VAULT_NAME', '')
param vaultReaderNamespace = env.kube.namespace
param appNamespace = env.kube.namespace

param kubernetesVersion = env.azure.kubernetesVersion
// No uptime SLA needed for staging: the Free tier saves the Standard tier's hourly fee.
param aksTier = 'Free'
param nodeVmSize = env.azure.nodeSize
param nodeMinCount = env.azure.nodeCount.min
param nodeMaxCount = env.azure.nodeCount.max
param availabilityZones = []
param disableLocalAccounts = !(env.azure.localAccounts)
// Who may reach the API server, as for production: comma-separated CIDRs without spaces (required).
param apiServerAuthorizedIpRanges = split(readEnvironmentVariable('AKS_API_AUTHORIZED_IP_RANGES'), ',')

param logRetentionDays = 30
param logDailyCapGb = 1

param githubRepository = readEnvironmentVariable('GITHUB_REPOSITORY')
param githubEnvironment = env.name

param alertEmail = readEnvironmentVariable('ALERT_EMAIL')
// The availability test's target: the environment's url + /api/health.
param healthCheckUrl = '${env.url}/api/health'
param budgetAmounts = [
  25
  50
]
// docs/cost.md estimates production only: no forecast budget for staging.
param budgetForecastAmount = 0
param budgetStartDate = '2026-12-01'

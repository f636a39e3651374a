// Production. Deployed by scripts/setup.mts --env production.
// Names, region, sizes, the Kubernetes minor, the namespace and the URL come from
// environments/production.yaml, the one place they are written: Bicep reads the YAML when it compiles
// this file (loadYamlContent in a .bicepparam needs Bicep CLI 0.21 or newer; docs/azure-setup.md).
// Reading it here, rather than having setup.mts write a parameters file, keeps one file that a plain
// `az deployment sub what-if/create --parameters bicep/production.bicepparam` deploys as setup does,
// with nothing generated to go stale. What only the template uses (tier, zones, budgets) stays below.
// Values that differ per fork come from the shell, so nothing personal is committed:
//   GITHUB_REPOSITORY     owner/name of the repository whose workflows deploy (set by GitHub Actions)
//   ALERT_EMAIL           where budget and monitoring alerts go
//   AKS_API_AUTHORIZED_IP_RANGES  the CIDRs (operators, fixed runners) that may reach the API server
//   AZURE_KEY_VAULT_NAME  optional; empty deploys no Key Vault (setup sets it from azure.keyVault)
using './main.bicep'

var env = loadYamlContent('../environments/production.yaml')

param environmentName = env.name
param location = env.azure.location
param resourceGroupName = env.azure.resourceGroup
param clusterName = env.azure.cluster
param registryName = env.azure.registry
param logAnalyticsWorkspaceName = env.azure.logAnalyticsWorkspace
param keyVaultName = readEnvironmentVariable('AZURE_KEY_VAULT_NAME', '')
// The app's namespace: the Key Vault reader identity is federated with its service account, and the
// rollout-failure alert watches its ReplicaSets.
param vaultReaderNamespace = env.kube.namespace
param appNamespace = env.kube.namespace

// A minor version; the patch channel applies its patch releases inside the maintenance window.
param kubernetesVersion = env.azure.kubernetesVersion
param aksTier = 'Standard'
param nodeVmSize = env.azure.nodeSize
param nodeMinCount = env.azure.nodeCount.min
param nodeMaxCount = env.azure.nodeCount.max
// East US has three zones; spreading nodes over them is the plan's answer to a zone outage.
param availabilityZones = [
  '1'
  '2'
  '3'
]
// Entra ID only when localAccounts is false: kubectl needs kubelogin (az aks install-cli installs it).
param disableLocalAccounts = !(env.azure.localAccounts)
// Who may reach the API server: comma-separated CIDRs without spaces, e.g. 203.0.113.7/32,198.51.100.0/24
// (required; Bicep refuses an empty list). GitHub-hosted runners are added by the deploy job itself.
param apiServerAuthorizedIpRanges = split(readEnvironmentVariable('AKS_API_AUTHORIZED_IP_RANGES'), ',')

param logRetentionDays = 30
param logDailyCapGb = 1

param githubRepository = readEnvironmentVariable('GITHUB_REPOSITORY')
param githubEnvironment = env.name

param alertEmail = readEnvironmentVariable('ALERT_EMAIL')
// The availability test's target: the environment's url + /api/health.
param healthCheckUrl = '${env.url}/api/health'
// The plan's billing alerts: $50, $100, $150 a month.
param budgetAmounts = [
  50
  100
  150
]
// The upper end of docs/cost.md's monthly estimate (~$270-330): a forecast above it e-mails.
param budgetForecastAmount = 330
// Fixed for the life of the budgets: Azure refuses to change a budget's start date on redeploy.
param budgetStartDate = '2026-12-01'

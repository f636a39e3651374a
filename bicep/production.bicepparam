// Production: the plan's names, region and sizes. Deployed by scripts/setup.mts --env production.
// Values that differ per fork come from the environment, so nothing personal is committed:
//   GITHUB_REPOSITORY     owner/name of the repository whose workflows deploy (set by GitHub Actions)
//   ALERT_EMAIL           where budget and monitoring alerts go
//   AKS_API_AUTHORIZED_IP_RANGES  the CIDRs (operators, fixed runners) that may reach the API server
//   AZURE_KEY_VAULT_NAME  optional; empty deploys no Key Vault
using './main.bicep'

param environmentName = 'production'
param location = 'eastus'

// The plan's exact names (the defaults would derive hackathon-todo-production-*).
param resourceGroupName = 'hackathon-todo-rg'
param clusterName = 'hackathon-todo-prod'
param registryName = 'hackathontodoacr'
param logAnalyticsWorkspaceName = 'hackathon-todo-prod-logs'
param keyVaultName = readEnvironmentVariable('AZURE_KEY_VAULT_NAME', '')
// The app's namespace (kube.namespace in environments/production.yaml; setup checks they agree).
param vaultReaderNamespace = 'todo'

// A minor version; the patch channel applies its patch releases inside the maintenance window.
param kubernetesVersion = '1.34'
param aksTier = 'Standard'
param nodeVmSize = 'Standard_D2s_v3'
param nodeMinCount = 2
param nodeMaxCount = 5
// East US has three zones; spreading nodes over them is the plan's answer to a zone outage.
param availabilityZones = [
  '1'
  '2'
  '3'
]
// Entra ID only: kubectl needs kubelogin (az aks install-cli installs it).
param disableLocalAccounts = true
// Who may reach the API server: comma-separated CIDRs without spaces, e.g. 203.0.113.7/32,198.51.100.0/24
// (required; Bicep refuses an empty list). GitHub-hosted runners are added by the deploy job itself.
param apiServerAuthorizedIpRanges = split(readEnvironmentVariable('AKS_API_AUTHORIZED_IP_RANGES'), ',')

param logRetentionDays = 30
param logDailyCapGb = 1

param githubRepository = readEnvironmentVariable('GITHUB_REPOSITORY')
param githubEnvironment = 'production'

param alertEmail = readEnvironmentVariable('ALERT_EMAIL')
// The availability test's target: this environment's url in environments/*.yaml + /api/health
// (test/bicep.test.ts keeps them equal).
param healthCheckUrl = 'https://todo.example.com/api/health'
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

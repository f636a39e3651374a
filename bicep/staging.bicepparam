// Staging: the same shape as production, smaller and cheaper. Names derive from baseName and
// environmentName (hackathon-todo-staging-rg, hackathon-todo-staging, hackathontodostagingacr).
// Reads GITHUB_REPOSITORY, ALERT_EMAIL, AKS_API_AUTHORIZED_IP_RANGES and (optionally)
// AZURE_KEY_VAULT_NAME like production.
using './main.bicep'

param environmentName = 'staging'
param location = 'eastus'
param keyVaultName = readEnvironmentVariable('AZURE_KEY_VAULT_NAME', '')
// The app's namespace (kube.namespace in environments/staging.yaml; setup checks they agree).
param vaultReaderNamespace = 'todo'

param kubernetesVersion = '1.34'
// No uptime SLA needed for staging: the Free tier saves the Standard tier's hourly fee.
param aksTier = 'Free'
param nodeVmSize = 'Standard_D2s_v3'
param nodeMinCount = 1
param nodeMaxCount = 3
param availabilityZones = []
param disableLocalAccounts = true
// Who may reach the API server, as for production: comma-separated CIDRs without spaces (required).
param apiServerAuthorizedIpRanges = split(readEnvironmentVariable('AKS_API_AUTHORIZED_IP_RANGES'), ',')

param logRetentionDays = 30
param logDailyCapGb = 1

param githubRepository = readEnvironmentVariable('GITHUB_REPOSITORY')
param githubEnvironment = 'staging'

param alertEmail = readEnvironmentVariable('ALERT_EMAIL')
// The availability test's target: this environment's url in environments/*.yaml + /api/health
// (test/bicep.test.ts keeps them equal).
param healthCheckUrl = 'https://staging.todo.example.com/api/health'
param budgetAmounts = [
  25
  50
]
// docs/cost.md estimates production only: no forecast budget for staging.
param budgetForecastAmount = 0
param budgetStartDate = '2026-12-01'

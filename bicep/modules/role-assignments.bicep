// Every role assignment, in one place. Names are guid(scope, principal, role) so a re-run finds the
// same assignment and changes nothing. Principal ids arrive as module parameters, so they are known
// when this module starts and may appear in names.

@description('Name of the AKS cluster the deploy identity gets access to.')
@minLength(1)
param clusterName string

@description('Name of the container registry.')
@minLength(5)
param registryName string

@description('Object id of the cluster\'s kubelet identity (pulls images).')
@minLength(1)
param kubeletObjectId string

@description('Principal id of the GitHub deploy identity.')
@minLength(1)
param githubPrincipalId string

@description('Key Vault name; empty when there is no vault, which skips the Key Vault assignments.')
param keyVaultName string

@description('Principal id of the vault-reader workload identity; empty when there is no vault.')
param vaultReaderPrincipalId string

@description('Application Insights component the deploy workflow sends its outcome events to.')
@minLength(1)
param appInsightsName string

@description('Let the GitHub deploy identity send the deploy outcome events to Application Insights.')
param deployOutcomeEvents bool

// Built-in role definition ids (the same in every tenant).
var roleIds = {
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  acrPush: '8311e382-0749-4cb8-b61a-304f252e45ec'
  aksRbacAdmin: '3498e952-d568-435e-9b2c-8d77e338d7f7'
  aksClusterUser: '4abbcc35-e782-43d8-92c5-2d3f1bd2253f'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

var deployKeyVault = !empty(keyVaultName)

resource cluster 'Microsoft.ContainerService/managedClusters@2025-10-01' existing = {
  name: clusterName
}

resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' existing = {
  name: registryName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = if (deployKeyVault) {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// roleAssignments@2022-04-01 is older than bicepconfig.json's 730 days, but the newest stable
// version there is (later ones are previews): test/bicep.test.ts lists it in NO_NEWER_STABLE.

// The kubelet pulls the app images.
resource kubeletAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, kubeletObjectId, roleIds.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.acrPull)
    principalId: kubeletObjectId
    principalType: 'ServicePrincipal'
  }
}

// build-images pushes the app images.
resource githubAcrPush 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, githubPrincipalId, roleIds.acrPush)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.acrPush)
    principalId: githubPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// az aks get-credentials needs listClusterUserCredential.
resource githubClusterUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(cluster.id, githubPrincipalId, roleIds.aksClusterUser)
  scope: cluster
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.aksClusterUser)
    principalId: githubPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// helm upgrade writes Deployments, Services, Secrets and the like, and the chart's Role and
// RoleBinding for the Dapr sidecar: RBAC Writer may not touch Roles or RoleBindings, RBAC Admin may.
// Neither may create namespaces, CRDs or cluster roles: installing Dapr stays a cluster admin's task.
resource githubRbacAdmin 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(cluster.id, githubPrincipalId, roleIds.aksRbacAdmin)
  scope: cluster
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.aksRbacAdmin)
    principalId: githubPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The in-cluster secret sync reads secret values.
resource vaultReaderSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployKeyVault) {
  name: guid(resourceId('Microsoft.KeyVault/vaults', keyVaultName), vaultReaderPrincipalId, roleIds.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: vaultReaderPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The deploy workflow's scripts/secrets.mts reads secret values to create Kubernetes Secrets.
resource githubSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployKeyVault) {
  name: guid(resourceId('Microsoft.KeyVault/vaults', keyVaultName), githubPrincipalId, roleIds.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: githubPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The deploy workflow's notify job sends each deploy's outcome as a custom event (deploy-notify.sh).
// The component refuses telemetry without Entra ID (DisableLocalAuth), and Monitoring Metrics
// Publisher on the component is the role that may send it, all telemetry types despite the name
// ("Microsoft Entra authentication for Application Insights").
resource githubTelemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployOutcomeEvents) {
  name: guid(appInsights.id, githubPrincipalId, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: githubPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Optional Key Vault for the app secrets (main.bicep deploys it when keyVaultName is set), and the
// workload identity an in-cluster sync reads it with. Secret values are never set here: load them
// with az keyvault secret set or scripts/secrets.mts, so they never pass through a deployment.

@description('Azure region of the vault and the identity.')
param location string

@description('Tags for every resource in this module.')
param tags object

@description('Key Vault name, 3-24 characters, globally unique.')
@minLength(3)
@maxLength(24)
param keyVaultName string

@description('Name of the workload identity that syncs secrets into the cluster.')
@minLength(3)
@maxLength(128)
param vaultReaderIdentityName string

@description('OIDC issuer URL of the cluster whose service account may act as the identity.')
@minLength(1)
param oidcIssuerUrl string

@description('Namespace of the service account.')
@minLength(1)
param vaultReaderNamespace string

@description('Name of the service account.')
@minLength(1)
param vaultReaderServiceAccount string

@description('Days a deleted vault or secret stays recoverable. A soft-deleted vault keeps its name reserved for this long.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  // checkov:skip=CKV_AZURE_109: the vault must be reachable from GitHub-hosted runners and operators' machines, whose addresses change; access is by Entra ID and Azure RBAC only.
  // checkov:skip=CKV_AZURE_189: same reason as CKV_AZURE_109: no private network exists for runners to reach a private endpoint.
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Azure RBAC instead of access policies: reads are granted by role assignment (Key Vault Secrets User).
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // Purge protection cannot be turned off again; it keeps a deleted secret recoverable for the retention period.
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource vaultReaderIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2026-05-31' = {
  name: vaultReaderIdentityName
  location: location
  tags: tags
}

// Lets pods running as <namespace>/<service account> exchange their token for this identity's.
resource vaultReaderFederation 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2026-05-31' = {
  parent: vaultReaderIdentity
  name: 'aks-${vaultReaderNamespace}-${vaultReaderServiceAccount}'
  properties: {
    issuer: oidcIssuerUrl
    subject: 'system:serviceaccount:${vaultReaderNamespace}:${vaultReaderServiceAccount}'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

@description('Vault URI, https://<name>.vault.azure.net/.')
output vaultUri string = vault.properties.vaultUri

@description('Principal (object) id of the vault-reader identity, for its Key Vault Secrets User role.')
output vaultReaderPrincipalId string = vaultReaderIdentity.properties.principalId

@description('Client id of the vault-reader identity, for the service account annotation azure.workload.identity/client-id.')
output vaultReaderClientId string = vaultReaderIdentity.properties.clientId

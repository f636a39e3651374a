// Azure Container Registry for the todo-backend and todo-frontend images.
// The kubelet's AcrPull and the deploy identity's AcrPush are granted in role-assignments.bicep.

@description('Azure region of the registry.')
param location string

@description('Tags for the registry.')
param tags object

@description('Registry name, 5-50 letters and digits, globally unique.')
@minLength(5)
@maxLength(50)
param registryName string

@description('Registry SKU.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param sku string

resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' = {
  // checkov:skip=CKV_AZURE_139: public access is how GitHub-hosted runners push and AKS pulls without a VNet; only Entra ID tokens are accepted (admin user off, anonymous pull off).
  // checkov:skip=CKV_AZURE_163: Defender for Containers scanning is a paid subscription-wide plan outside a $150 budget; the plan scans images with Trivy in CI instead.
  // checkov:skip=CKV_AZURE_166: quarantine needs the Premium SKU and a scanner that releases images.
  // checkov:skip=CKV_AZURE_233: zone redundancy needs the Premium SKU; an outage only delays new image pulls.
  name: registryName
  location: location
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    // Admin user off: clients authenticate with Entra ID (kubelet identity, GitHub OIDC identity).
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
    zoneRedundancy: 'Disabled'
    policies: {
      azureADAuthenticationAsArmPolicy: {
        status: 'enabled'
      }
      exportPolicy: {
        status: 'enabled'
      }
    }
  }
}

@description('Registry name.')
output registryName string = registry.name

@description('Registry resource id.')
output registryId string = registry.id

@description('Login server, <name>.azurecr.io.')
output loginServer string = registry.properties.loginServer

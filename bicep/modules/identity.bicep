// User-assigned identities that exist before the cluster: the AKS control plane's, and the one the
// GitHub deploy workflow signs in as through OIDC federation (no client secret anywhere).

@description('Azure region of the identities.')
param location string

@description('Tags for every resource in this module.')
param tags object

@description('Cluster name; the control-plane identity is named after it.')
@minLength(1)
param clusterName string

@description('Name of the identity the GitHub deploy workflow signs in as.')
@minLength(3)
@maxLength(128)
param githubIdentityName string

@description('GitHub repository as owner/name.')
@minLength(3)
param githubRepository string

@description('GitHub deployment environment the deploy job runs in.')
@minLength(1)
param githubEnvironment string

// GitHub's token issuer and the audience azure/login requests by default.
var githubIssuer = 'https://token.actions.githubusercontent.com'
var tokenExchangeAudience = 'api://AzureADTokenExchange'

resource controlPlaneIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2026-05-31' = {
  name: 'id-${clusterName}-control-plane'
  location: location
  tags: tags
}

resource githubIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2026-05-31' = {
  name: githubIdentityName
  location: location
  tags: tags
}

// Pushes to main (build-images) present the subject repo:<owner>/<repo>:ref:refs/heads/main.
resource githubMainBranch 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2026-05-31' = {
  parent: githubIdentity
  name: 'github-main-branch'
  properties: {
    issuer: githubIssuer
    subject: 'repo:${githubRepository}:ref:refs/heads/main'
    audiences: [
      tokenExchangeAudience
    ]
  }
}

// A job with `environment: <name>` presents repo:<owner>/<repo>:environment:<name> instead of the branch.
resource githubEnvironmentCredential 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2026-05-31' = {
  parent: githubIdentity
  name: 'github-environment-${githubEnvironment}'
  properties: {
    issuer: githubIssuer
    subject: 'repo:${githubRepository}:environment:${githubEnvironment}'
    audiences: [
      tokenExchangeAudience
    ]
  }
  // Azure rejects concurrent writes of federated credentials on one identity: create them one after the other.
  dependsOn: [
    githubMainBranch
  ]
}

@description('Resource id of the control-plane identity.')
output controlPlaneIdentityId string = controlPlaneIdentity.id

@description('Principal (object) id of the GitHub deploy identity, for role assignments.')
output githubPrincipalId string = githubIdentity.properties.principalId

@description('Client id of the GitHub deploy identity (AZURE_CLIENT_ID in the workflows).')
output githubClientId string = githubIdentity.properties.clientId

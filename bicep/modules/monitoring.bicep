// Log Analytics workspace and the Container Insights data collection rule.
// Without the data collection rule (and its association, made in aks.bicep) no container logs arrive.

@description('Azure region of the workspace and the data collection rule.')
param location string

@description('Tags for every resource in this module.')
param tags object

@description('Log Analytics workspace name.')
@minLength(4)
@maxLength(63)
param workspaceName string

@description('Days the workspace keeps data; 30-730 is what a PerGB2018 workspace accepts.')
@minValue(30)
@maxValue(730)
param retentionInDays int

@description('Daily ingestion cap in GB.')
@minValue(1)
param dailyCapGb int

@description('Name of the cluster whose data the rule collects (used in the rule name only).')
@minLength(1)
param clusterName string

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    workspaceCapping: {
      dailyQuotaGb: dailyCapGb
    }
    features: {
      // Readers get only the rows of resources they may read (the cluster), not the whole workspace.
      enableLogAccessUsingOnlyResourcePermissions: true
    }
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

// The shape AKS itself creates for Container Insights with managed identity authentication.
// 2024-03-11 is the newest stable dataCollectionRules version (older than 730 days; listed in
// NO_NEWER_STABLE in test/bicep.test.ts).
resource containerInsightsRule 'Microsoft.Insights/dataCollectionRules@2024-03-11' = {
  // The MSCI- prefix is the name the portal and az aks enable-addons use, so either can take it over.
  name: take('MSCI-${location}-${clusterName}', 64)
  location: location
  tags: tags
  kind: 'Linux'
  properties: {
    description: 'Container Insights: container logs (ContainerLogV2), pod, node and event inventory'
    dataSources: {
      extensions: [
        {
          name: 'ContainerInsightsExtension'
          extensionName: 'ContainerInsights'
          streams: [
            'Microsoft-ContainerInsights-Group-Default'
          ]
          extensionSettings: {
            dataCollectionSettings: {
              // One minute keeps the crash-loop log alert timely; raise it to cut ingestion cost.
              interval: '1m'
              namespaceFilteringMode: 'Off'
              enableContainerLogV2: true
            }
          }
        }
      ]
    }
    destinations: {
      logAnalytics: [
        {
          name: 'ciworkspace'
          workspaceResourceId: workspace.id
        }
      ]
    }
    dataFlows: [
      {
        streams: [
          'Microsoft-ContainerInsights-Group-Default'
        ]
        destinations: [
          'ciworkspace'
        ]
      }
    ]
  }
}

@description('Resource id of the workspace.')
output workspaceId string = workspace.id

@description('Name of the workspace.')
output workspaceName string = workspace.name

@description('Resource id of the Container Insights data collection rule.')
output dataCollectionRuleId string = containerInsightsRule.id

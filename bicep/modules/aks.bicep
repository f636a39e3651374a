// The AKS cluster (azure.cluster in environments/*.yaml): autoscaling node pool, Azure CNI overlay with
// Cilium network policy, Entra ID with Azure RBAC, workload identity, automatic upgrades inside a
// maintenance window, and Container Insights wired to the data collection rule.

@description('Azure region of the cluster.')
param location string

@description('Tags for the cluster.')
param tags object

@description('Cluster name, also used as its DNS prefix.')
@minLength(1)
@maxLength(63)
param clusterName string

@description('Kubernetes minor version, e.g. 1.34.')
@minLength(4)
param kubernetesVersion string

@description('AKS pricing tier; Standard carries the uptime SLA.')
@allowed([
  'Free'
  'Standard'
])
param tier string

@description('VM size of the node pool.')
@minLength(1)
param nodeVmSize string

@description('Fewest nodes the cluster autoscaler keeps.')
@minValue(1)
param nodeMinCount int

@description('Most nodes the cluster autoscaler may add.')
@minValue(1)
param nodeMaxCount int

@description('Availability zones of the node pool; empty for none.')
param availabilityZones array

@description('Name of the resource group AKS creates for the nodes, disks and load balancer.')
@minLength(1)
@maxLength(80)
param nodeResourceGroupName string

@description('Resource id of the user-assigned identity the control plane runs as.')
@minLength(1)
param controlPlaneIdentityId string

@description('Disable local accounts so all access goes through Entra ID.')
param disableLocalAccounts bool = true

@description('Entra ID groups that get cluster-admin.')
param adminGroupObjectIds array

@description('CIDR ranges allowed to reach the API server; at least one (empty would allow all).')
@minLength(1)
param apiServerAuthorizedIpRanges array

@description('Automatic upgrade channel.')
@allowed([
  'none'
  'patch'
  'stable'
  'rapid'
  'node-image'
])
param upgradeChannel string

@description('Node OS upgrade channel.')
@allowed([
  'None'
  'Unmanaged'
  'NodeImage'
  'SecurityPatch'
])
param nodeOsUpgradeChannel string

@description('Day of the weekly maintenance window.')
@minLength(6)
param maintenanceDay string

@description('Start of the maintenance window, HH:mm.')
@minLength(5)
@maxLength(5)
param maintenanceStartTime string

@description('UTC offset of the maintenance window, +HH:mm.')
@minLength(6)
@maxLength(6)
param maintenanceUtcOffset string

@description('Length of the maintenance window in hours.')
@minValue(4)
param maintenanceDurationHours int

@description('Resource id of the Log Analytics workspace Container Insights writes to.')
@minLength(1)
param logAnalyticsWorkspaceId string

@description('Resource id of the Container Insights data collection rule.')
@minLength(1)
param dataCollectionRuleId string

var maintenanceWindow = {
  schedule: {
    weekly: {
      intervalWeeks: 1
      dayOfWeek: maintenanceDay
    }
  }
  durationHours: maintenanceDurationHours
  utcOffset: maintenanceUtcOffset
  startTime: maintenanceStartTime
}

resource cluster 'Microsoft.ContainerService/managedClusters@2025-10-01' = {
  // checkov:skip=CKV_AZURE_8: the Kubernetes Dashboard add-on does not exist for Kubernetes 1.19 and later, so there is nothing to disable.
  // checkov:skip=CKV_AZURE_226: ephemeral OS disks need a VM cache at least as large as the OS disk; Standard_D2s_v3's 50 GiB cache is below the 128 GiB default disk.
  // checkov:skip=CKV_AZURE_227: encryption at host needs the EncryptionAtHost feature registered on the subscription, which a new subscription does not have.
  // checkov:skip=CKV_AZURE_172: the Secrets Store CSI driver add-on is not used; secrets are synced by scripts/secrets.mts or the vault-reader workload identity.
  name: clusterName
  location: location
  tags: tags
  sku: {
    name: 'Base'
    tier: tier
  }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${controlPlaneIdentityId}': {}
    }
  }
  properties: {
    kubernetesVersion: kubernetesVersion
    dnsPrefix: clusterName
    nodeResourceGroup: nodeResourceGroupName
    enableRBAC: true
    disableLocalAccounts: disableLocalAccounts
    supportPlan: 'KubernetesOfficial'
    aadProfile: {
      managed: true
      enableAzureRBAC: true
      tenantID: tenant().tenantId
      adminGroupObjectIDs: adminGroupObjectIds
    }
    oidcIssuerProfile: {
      enabled: true
    }
    securityProfile: {
      workloadIdentity: {
        enabled: true
      }
      imageCleaner: {
        enabled: true
        // Stale images are removed weekly so the nodes' disks do not fill with old revisions.
        intervalHours: 168
      }
    }
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        type: 'VirtualMachineScaleSets'
        osType: 'Linux'
        // Azure Linux: a smaller node image than Ubuntu, so node boots and OS updates are quicker.
        osSKU: 'AzureLinux'
        vmSize: nodeVmSize
        // count only sets the size at creation; afterwards the autoscaler owns it.
        count: nodeMinCount
        enableAutoScaling: true
        minCount: nodeMinCount
        maxCount: nodeMaxCount
        // 110 pods per node leaves room for the Dapr sidecars at the plan's replica counts.
        maxPods: 110
        availabilityZones: empty(availabilityZones) ? null : availabilityZones
        upgradeSettings: {
          // One extra node during upgrades: the smallest surge that keeps both replicas of each app running.
          maxSurge: '1'
        }
      }
    ]
    autoScalerProfile: {
      // Scale down after 10 idle minutes instead of the default 10 + 10, which matters at a $150 budget.
      'scale-down-delay-after-add': '10m'
      'scale-down-unneeded-time': '10m'
      'scale-down-utilization-threshold': '0.5'
      'scan-interval': '10s'
      expander: 'least-waste'
      'balance-similar-node-groups': 'true'
      'skip-nodes-with-system-pods': 'true'
      'skip-nodes-with-local-storage': 'false'
      'max-graceful-termination-sec': '600'
    }
    networkProfile: {
      networkPlugin: 'azure'
      // Overlay gives pods addresses from podCidr instead of the VNet, so no subnet sizing for 5 x 110 pods.
      networkPluginMode: 'overlay'
      networkDataplane: 'cilium'
      // Cilium enforces Kubernetes NetworkPolicy (the chart ships one); Azure NPM is being retired.
      networkPolicy: 'cilium'
      podCidr: '10.244.0.0/16'
      serviceCidr: '10.0.0.0/16'
      dnsServiceIP: '10.0.0.10'
      loadBalancerSku: 'standard'
      outboundType: 'loadBalancer'
    }
    // Public API server, reachable only from authorizedIPRanges (never empty, which would mean any
    // address), and Entra ID sign-in on top. The deploy workflow adds its GitHub-hosted runner's
    // address for the length of the job and removes it afterwards (.github/scripts/aks-runner-access.sh).
    apiServerAccessProfile: {
      enablePrivateCluster: false
      authorizedIPRanges: apiServerAuthorizedIpRanges
    }
    autoUpgradeProfile: {
      upgradeChannel: upgradeChannel
      nodeOSUpgradeChannel: nodeOsUpgradeChannel
    }
    addonProfiles: {
      omsagent: {
        enabled: true
        config: {
          logAnalyticsWorkspaceResourceID: logAnalyticsWorkspaceId
          // Managed identity authentication: the agent reads the data collection rule instead of a workspace key.
          useAADAuth: 'true'
        }
      }
    }
  }
}

// Automatic Kubernetes upgrades (upgradeChannel) happen only inside this window.
resource autoUpgradeWindow 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations@2025-10-01' = {
  parent: cluster
  name: 'aksManagedAutoUpgradeSchedule'
  properties: {
    maintenanceWindow: maintenanceWindow
  }
}

// Node OS image updates (nodeOsUpgradeChannel) share the same window.
resource nodeOsUpgradeWindow 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations@2025-10-01' = {
  parent: cluster
  name: 'aksManagedNodeOSUpgradeSchedule'
  properties: {
    maintenanceWindow: maintenanceWindow
  }
}

// Links the cluster to the Container Insights rule; without it the agent collects nothing.
resource containerInsightsAssociation 'Microsoft.Insights/dataCollectionRuleAssociations@2024-03-11' = {
  name: 'ContainerInsightsExtension'
  scope: cluster
  properties: {
    description: 'Container Insights data collection for ${clusterName}'
    dataCollectionRuleId: dataCollectionRuleId
  }
}

@description('Cluster name.')
output clusterName string = cluster.name

@description('Cluster resource id.')
output clusterId string = cluster.id

@description('Object id of the kubelet identity AKS created, which pulls images from the registry.')
output kubeletObjectId string = cluster.properties.identityProfile.kubeletidentity.objectId

@description('OIDC issuer URL for workload identity federation.')
output oidcIssuerUrl string = cluster.properties.oidcIssuerProfile.issuerURL

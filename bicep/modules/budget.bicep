// Monthly cost budgets at the plan's alert levels ($50, $100, $150), one budget per level, each
// e-mailing when actual spend reaches it and when the month's forecast will.
targetScope = 'subscription'

@description('Prefix of the budget names; each ends in -<amount>usd.')
@minLength(1)
@maxLength(50)
param budgetNamePrefix string

@description('Monthly amounts in USD, one budget each.')
@minLength(1)
param amounts array

@description('First day the budgets count from, YYYY-MM-01. Azure refuses to change it after creation.')
@minLength(10)
@maxLength(10)
param startDate string

@description('Address that receives the budget alerts.')
@minLength(3)
param contactEmail string

@description('The monthly estimate in USD (docs/cost.md) that a forecast-only budget watches; 0 creates none.')
@minValue(0)
param forecastAmount int

@description('Resource groups whose cost counts: the app\'s and AKS\'s node resource group (where the VMs are billed).')
@minLength(1)
param resourceGroupNames array

resource budgets 'Microsoft.Consumption/budgets@2026-06-01' = [
  for amount in amounts: {
    name: '${budgetNamePrefix}-${amount}usd'
    properties: {
      category: 'Cost'
      amount: amount
      timeGrain: 'Monthly'
      timePeriod: {
        startDate: startDate
      }
      filter: {
        dimensions: {
          name: 'ResourceGroupName'
          operator: 'In'
          values: resourceGroupNames
        }
      }
      notifications: {
        actualReached: {
          enabled: true
          operator: 'GreaterThanOrEqualTo'
          // Thresholds are percentages of the budget's amount.
          threshold: 100
          thresholdType: 'Actual'
          contactEmails: [
            contactEmail
          ]
        }
        forecastReached: {
          enabled: true
          operator: 'GreaterThan'
          threshold: 100
          thresholdType: 'Forecasted'
          contactEmails: [
            contactEmail
          ]
        }
      }
    }
  }
]

// The estimate, not a limit: one e-mail when the month's forecast exceeds what docs/cost.md says the
// environment should cost, so a drift (a node left scaled up, a log storm) shows before the bill does.
// The $50/$100/$150 budgets above stay the plan's milestones of actual spend.
resource forecastBudget 'Microsoft.Consumption/budgets@2026-06-01' = if (forecastAmount > 0) {
  name: '${budgetNamePrefix}-forecast-${forecastAmount}usd'
  properties: {
    category: 'Cost'
    amount: forecastAmount
    timeGrain: 'Monthly'
    timePeriod: {
      startDate: startDate
    }
    filter: {
      dimensions: {
        name: 'ResourceGroupName'
        operator: 'In'
        values: resourceGroupNames
      }
    }
    notifications: {
      forecastOverEstimate: {
        enabled: true
        operator: 'GreaterThan'
        threshold: 100
        thresholdType: 'Forecasted'
        contactEmails: [
          contactEmail
        ]
      }
    }
  }
}

@description('Names of the budgets.')
output budgetNames array = [for (amount, i) in amounts: budgets[i].name]

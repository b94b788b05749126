//! CloudCockpit's rule for the relationship-acceptance link. It only reads the state: the link
//! is derived from the customer's tenant and the partner it is to accept, so the same pair
//! always gets the same URL.

use super::CloudCockpitToken;
use super::errors::CloudCockpitError;
use super::state::{CloudCockpitState, Reseller, Tenant, same_guid};

/// Where Microsoft's admin center takes a customer to accept a partner invitation.
const ADMIN_CENTER: &str = "https://admin.microsoft.com/Adminportal/Home";

/// One relationship-acceptance request, as validated.
pub struct Request<'a> {
    /// The caller's configured credential.
    pub caller: &'a CloudCockpitToken,
    /// The `X-Tenant` header.
    pub tenant: &'a str,
    /// The `providerInstanceId` query parameter.
    pub provider_instance_id: &'a str,
    /// The `resellerId` query parameter, when sent.
    pub reseller_id: Option<&'a str>,
    /// Mutant `cloudcockpit.reseller-id-not-enforced`: a reseller may name another reseller.
    pub foreign_reseller_allowed: bool,
}

/// `GET /v1/Customers/relationship-acceptance`: the link customer `provider_instance_id`
/// opens to accept a relationship with the CSP, or with a reseller when one is named (or the
/// caller is one).
pub fn acceptance_link(
    state: &CloudCockpitState,
    request: &Request<'_>,
) -> Result<String, CloudCockpitError> {
    let tenant = state.tenant_by_domain(request.tenant).ok_or_else(|| {
        CloudCockpitError::not_found(format!("Tenant '{}' was not found.", request.tenant))
    })?;
    // The token must have been issued for the tenant the request addresses.
    if !tenant
        .domains
        .iter()
        .any(|d| d.eq_ignore_ascii_case(&request.caller.tenant))
    {
        return Err(CloudCockpitError::forbidden(
            "The token does not belong to the tenant named in X-Tenant.",
        ));
    }
    let (reseller, own_reseller) = match request.caller.role.as_str() {
        "reseller" => reseller_for_reseller(tenant, request)?,
        _ => (reseller_for_csp(tenant, request.reseller_id)?, None),
    };
    let customer = tenant
        .customer_by_instance(request.provider_instance_id)
        .ok_or_else(customer_not_found)?;
    // A reseller sees only the customers it serves; anything else does not exist for it.
    if let Some(own) = own_reseller
        && !customer
            .reseller_id
            .as_deref()
            .is_some_and(|r| same_guid(r, own))
    {
        return Err(customer_not_found());
    }
    Ok(link(tenant, reseller))
}

/// A csp caller: no `resellerId` means the CSP itself; otherwise it must name one of the
/// tenant's resellers.
fn reseller_for_csp<'t>(
    tenant: &'t Tenant,
    reseller_id: Option<&str>,
) -> Result<Option<&'t Reseller>, CloudCockpitError> {
    reseller_id
        .map(|id| {
            tenant.reseller(id).ok_or_else(|| {
                CloudCockpitError::not_found(format!("Reseller '{id}' was not found."))
            })
        })
        .transpose()
}

/// A reseller caller: `resellerId` is its own (filled in when omitted); another one is refused.
/// Returns the reseller the link is for and the caller's own reseller id.
fn reseller_for_reseller<'t, 'r>(
    tenant: &'t Tenant,
    request: &Request<'r>,
) -> Result<(Option<&'t Reseller>, Option<&'r str>), CloudCockpitError> {
    let own = request.caller.reseller_id.as_deref().unwrap_or_default();
    let wanted = match request.reseller_id {
        Some(id) if !same_guid(id, own) && !request.foreign_reseller_allowed => {
            return Err(CloudCockpitError::forbidden(
                "A reseller can only request links for its own resellerId.",
            ));
        }
        Some(id) => id,
        None => own,
    };
    let reseller = tenant.reseller(wanted).ok_or_else(|| {
        CloudCockpitError::not_found(format!("Reseller '{wanted}' was not found."))
    })?;
    Ok((Some(reseller), Some(own)))
}

fn customer_not_found() -> CloudCockpitError {
    CloudCockpitError::not_found("The requested customer was not found.")
}

/// Microsoft's invitation link: a direct reseller relationship with the CSP, or an indirect
/// reseller relationship with `reseller` under the CSP.
fn link(tenant: &Tenant, reseller: Option<&Reseller>) -> String {
    match reseller {
        None => format!(
            "{ADMIN_CENTER}?invType=ResellerRelationship&partnerId={}&msppId=0&DAP=true#/BillingAccounts/partner-invitation",
            tenant.partner_id
        ),
        Some(reseller) => format!(
            "{ADMIN_CENTER}?invType=IndirectResellerRelationship&partnerId={}&msppId=0&indirectCSPId={}#/BillingAccounts/partner-invitation",
            reseller.partner_id, tenant.partner_id
        ),
    }
}

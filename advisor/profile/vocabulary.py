"""The closed vocabularies of the organisation profile (schema version 1).

These are the values the profile accepts and the rule conditions may test.
They follow the researched regulatory catalogue's ``profile_schema``; they are
part of the published profile contract, so values are only ever added.
"""

from __future__ import annotations

SECTORS = (
    "banking", "insurance", "investment_services", "payments", "healthcare_provider",
    "health_insurer_payer", "pharma_life_sciences", "public_sector_civil",
    "law_enforcement_justice", "defense_government", "defense_industrial_base",
    "energy_utilities", "telecom", "legal_services", "education",
    "critical_infrastructure_other", "tech_saas", "retail_consumer", "manufacturing", "other",
)

ENTITY_FLAGS = (
    "dora_financial_entity", "ecb_significant_institution", "eba_gl_scope",
    "solvency2_undertaking", "esma_supervised", "us_bank_supervised",
    "glba_financial_institution", "nydfs_covered_entity", "in_payment_system_operator",
    "pci_merchant_or_service_provider", "hipaa_covered_entity", "hipaa_business_associate",
    "part2_program", "de_sgb_v_provider_or_fund", "fr_health_data_producer",
    "ehds_health_data_holder", "nis2_essential", "nis2_important", "cra_manufacturer",
    "ai_act_provider", "us_federal_agency", "us_dod_contractor", "cjis_agency_or_vendor",
    "fr_state_or_operator_sren31", "de_federal_body", "uk_hmg_body",
    "eu_institution_or_contractor_euci", "nato_contractor", "nerc_registered_high_medium",
    "telecom_provider", "law_firm_or_legal_dept", "professional_secrecy_holder", "cn_ciio",
    "in_significant_data_fiduciary", "ksa_gov_or_cni", "works_council_present",
    "law_enforcement_authority_led", "national_security_purpose",
)

DATA_CATEGORIES = (
    "non_personal", "personal_basic", "special_category_art9", "criminal_offence_art10",
    "children", "employee_hr", "financial_account", "payment_card_pan",
    "sensitive_authentication_data", "phi", "sud_part2", "fr_care_health_data",
    "de_social_health_data", "cji", "cui_cdi", "itar_technical_data",
    "ear_controlled_technology", "bcsi", "communications_content", "traffic_location_data",
    "cpni", "privileged_legal", "professional_secret", "trade_secret", "cn_important_data",
    "cn_sensitive_pi", "us_bulk_sensitive_data", "us_government_related_data",
    "ru_citizen_pd_collected", "in_payment_system_data",
)

#: Categories that are *not* personal data. Every other category is.
NON_PERSONAL_CATEGORIES = frozenset({
    "non_personal", "trade_secret", "itar_technical_data", "ear_controlled_technology",
    "bcsi", "cn_important_data", "cui_cdi",
})

CLASSIFICATION_SCHEMES = (
    "none", "DE_VSA", "FR_IGI1300_II901", "UK_GSCP", "EUCI", "NATO", "US_EO13526",
    "other_national",
)

#: Ordinal: each level is more sensitive than the one before it.
CLASSIFICATION_LEVELS = (
    "public", "internal", "confidential_commercial", "restricted_gov", "confidential_gov",
    "secret", "top_secret",
)

US_FEDERAL_IMPACT = ("none", "fips199_low", "fips199_moderate", "fips199_high")

DOD_IMPACT_LEVELS = ("none", "IL2", "IL4", "IL5", "IL6")

USE_CASES = (
    "internal_productivity", "rag_internal_docs", "customer_facing_chat",
    "public_content_generation", "code_generation", "document_analysis", "decision_support",
    "automated_decision_legal_effect", "annex3_biometrics", "annex3_critical_infrastructure",
    "annex3_education", "annex3_employment", "annex3_essential_services_public",
    "annex3_creditworthiness", "annex3_life_health_insurance_pricing", "annex3_law_enforcement",
    "annex3_migration", "annex3_justice_democracy", "emotion_recognition", "ot_control_loop",
    "agentic_actions", "scientific_research_only",
)

AI_ACT_ROLES = ("deployer", "provider", "provider_and_deployer")

CUSTOMISATION = (
    "none", "prompting_rag", "fine_tune_light", "fine_tune_heavy_gt_one_third_compute",
    "pretraining",
)

MODEL_SOURCES = ("proprietary_api", "open_weights", "in_house")

#: The schema-version-1 sovereignty strings. Each maps onto the explicit
#: ``sovereignty`` mapping (residency, immunity, accreditations), relative to the
#: organisation's home; see :func:`advisor.profile.schema.legacy_sovereignty`.
SOVEREIGNTY = (
    "none", "residency_in_region", "immunity_from_non_eu_law", "national_accreditation_required",
)

#: Cloud security accreditations issued by a state's security authority (or an
#: authority it mandates). Who issues each, and at which level, is catalog data
#: (catalog/jurisdictions.yaml ``schemes``). ``national`` in a profile means
#: "any scheme issued by the authority of my home country".
ACCREDITATION_SCHEMES = (
    "fedramp_moderate", "fedramp_high", "dod_il4", "dod_il5", "dod_il6", "cjis",
    "secnumcloud", "c5_type2", "ens_alto", "irap_protected", "ismap", "csap", "ksa_nca_ccc",
    "sg_mtcs_level3", "ca_cccs_medium", "uk_ncsc_principles", "acn_qc",
)
ACCREDITATION_REQUEST = ("national", *ACCREDITATION_SCHEMES)

#: What a use case needs from the deployment, as data: rules test these needs
#: through ``derived.use_case_needs`` (e.g. an isolated system cannot serve a
#: public chatbot).
USE_CASE_NEEDS: dict[str, tuple[str, ...]] = {
    "customer_facing_chat": ("internet_reachable",),
    "public_content_generation": ("internet_reachable",),
    "agentic_actions": ("outbound_connectivity",),
}
NEEDS = ("internet_reachable", "outbound_connectivity", "frontier_api_model")

#: Ordinal as well: low < medium < high.
RISK_APPETITE = ("low", "medium", "high")

#: Ordinal vocabularies, by name, for the condition language's comparisons.
ORDINALS: dict[str, tuple[str, ...]] = {
    "classification_level": CLASSIFICATION_LEVELS,
    "us_federal_impact": US_FEDERAL_IMPACT,
    "dod_impact_level": DOD_IMPACT_LEVELS,
    "risk_appetite": RISK_APPETITE,
    "customisation": CUSTOMISATION,
}

#: Reporting currencies: those catalog/fx.yaml rates (ECB reference rates, and the
#: USD pegs of SAR and AED), covering the jurisdictions of the rule library.
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "CAD", "JPY", "KRW", "AUD", "SGD", "HKD", "INR", "CNY", "BRL", "SAR",
              "AED", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "NZD", "ZAR", "MXN", "TRY", "ILS")

// An open-source Maventa client (npm @rantalainen/maventa-api-client, pinned in package.json), used
// unchanged - as its README shows - against the sandbox: node steps.js SANDBOX_URL VENDOR_API_KEY
// Prints one JSON line per step ({"step", "ok", "detail"}); the pytest test asserts every step passed.
// The package's own default scope ("eui") is kept on purpose: that is what its users send.
'use strict';

const { MaventaApiClient } = require('@rantalainen/maventa-api-client');

const [baseURL, vendorApiKey] = process.argv.slice(2);
const stamp = Date.now();
const email = `npm-client-${stamp}@example.test`;
const uuid = `npm-${stamp}`;

const xml = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
         xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
         xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>NPM-1</cbc:ID><cbc:IssueDate>2026-11-01</cbc:IssueDate><cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:AccountingCustomerParty><cac:Party><cbc:EndpointID schemeID="0192">987654321</cbc:EndpointID>
    <cac:PartyLegalEntity><cbc:RegistrationName>Buyer AS</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:LegalMonetaryTotal><cbc:TaxExclusiveAmount currencyID="EUR">100.00</cbc:TaxExclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">125.50</cbc:PayableAmount></cac:LegalMonetaryTotal>
</Invoice>`);
const pdf = Buffer.from('%PDF-1.4 invoice image from the npm client\n%%EOF');

function client(clientId, clientSecret) {
  return new MaventaApiClient({ clientId, clientSecret, vendorApiKey }, { baseURL, keepAliveAgent: false });
}

async function step(name, fn) {
  try {
    const detail = await fn();
    console.log(JSON.stringify({ step: name, ok: true, detail: detail === undefined ? null : detail }));
    return detail;
  } catch (error) {
    const detail = error.response ? `${error.response.status} ${JSON.stringify(error.response.data)}` : String(error);
    console.log(JSON.stringify({ step: name, ok: false, detail }));
    return undefined;
  }
}

async function main() {
  // Registration needs no token; the client still wants credentials to be built.
  const anonymous = client('registration', 'none');
  const userKey = await step('1 create user', async () =>
    (await anonymous.api.users.postV1Users({ vendor_api_key: vendorApiKey, email, first_name: 'Npm' })).data.user_api_key);
  const companyId = await step('2 create company', async () => (await anonymous.api.companies.postV1Companies({
    vendor_api_key: vendorApiKey, user_api_key: userKey, name: 'Npm Client Oy', bid: `FI${String(stamp).slice(-8)}`,
    no_vat: false, address1: 'Katu 1', post_code: '00100', post_office: 'Helsinki', city: 'Helsinki', country: 'FI',
    email })).data.id);
  const maventa = client(companyId, userKey);
  await step('3 token and /oauth2/current', async () => {
    const current = (await maventa.api.current.getOauth2Current()).data;
    if (current.company.id !== companyId) throw new Error(`current company is ${current.company.id}`);
    return current.scopes.length;
  });
  await step('4 send the signing request', async () =>
    (await maventa.api.company.postV1CompanyAuthorization({ auth_email: email, locale: 'FI' })).data.status);
  // The signer signs (the sandbox's own hook stands in for Visma Sign).
  await fetch(`${baseURL}/_sandbox/companies/${companyId}/sign`, { method: 'POST' });
  await step('5 read the signing state', async () => {
    const state = (await maventa.api.company.getV1CompanyAuthorization()).data;
    if (state.company_state !== 'VERIFIED') throw new Error(JSON.stringify(state));
    return state.auth_state;
  });
  let settings;
  await step('6 read the settings', async () => {
    settings = (await maventa.api.company.getV1CompanySettings()).data;
    return Object.keys(settings).join(',');
  });
  await step('7 change the print settings', async () => {
    const { details, address, invoice_notifications } = settings;
    const keep = (block) => Object.fromEntries(Object.entries(block).filter(([, v]) => v !== null));
    const answer = await maventa.api.company.patchV1CompanySettings({
      details: keep(details), address: keep(address),
      invoice_notifications: { on_send_errors: invoice_notifications.on_send_errors },
      send_invoice_print: { enabled: true, use_own_pdf: true } });
    return answer.status;
  });
  await step('8 look up a receiver', async () =>
    (await maventa.api.lookup.getV1LookupReceivers({ network: ['PEPPOL'], eia: '0192:987654321' })).data.length);
  const invoiceId = await step('9 send an invoice as XML + PDF (ZIP)', async () =>
    (await maventa.api.helpers.postInvoiceZip(xml, pdf, [], { uuid, recipient_eia: '0192:987654321' })).data.id);
  await step('10 read the invoice and its actions', async () => {
    const invoice = (await maventa.api.invoices.getV1InvoicesId(invoiceId)).data;
    const actions = (await maventa.api.invoices.getV1InvoicesIdActions(invoiceId)).data;
    if (invoice.id !== uuid || !actions.length) throw new Error(JSON.stringify({ invoice, actions }));
    return actions.map((a) => a.type).join(',');
  });
}

main().then(() => process.exit(0), (error) => { console.error(error); process.exit(2); });

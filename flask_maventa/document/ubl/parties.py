"""The UBL groups of who is who: seller and buyer, payee, tax representative, the delivery, and the
payment means (the payee's account)."""

from __future__ import annotations

from ..invoice import Address, Delivery, Party, Payee, PaymentMeans, TaxRepresentative
from .nodes import ElementWriter, Node


class PartyWriter(ElementWriter):
    """Writes the parties, the delivery and the payment means."""

    def address(self, parent: Node, name: str, address: Address | None, src: str) -> None:
        if address is None:
            return
        el = self.cac(parent, name, src)
        self.cbc(el, "StreetName", address.street, f"{src}.street")
        self.cbc(el, "AdditionalStreetName", address.additional_street, f"{src}.additional_street")
        self.cbc(el, "CityName", address.city, f"{src}.city")
        self.cbc(el, "PostalZone", address.post_code, f"{src}.post_code")
        self.cbc(el, "CountrySubentity", address.subdivision, f"{src}.subdivision")
        if address.country:
            self.cbc(self.cac(el, "Country", f"{src}.country"), "IdentificationCode", address.country,
                     f"{src}.country")

    def party(self, wrapper: Node, p: Party, src: str) -> None:
        seller = src == "seller"
        party = self.cac(wrapper, "Party", src)
        endpoint = p.effective_endpoint()
        if endpoint:
            e = "endpoint" if p.endpoint else "legal_id"
            self.cbc(party, "EndpointID", endpoint.value, f"{src}.{e}", schemeID=endpoint.scheme)
        for i, ident in enumerate(p.identifiers):
            isrc = f"{src}.identifiers[{i}]"
            self.cbc(self.cac(party, "PartyIdentification", isrc), "ID", ident.value, f"{isrc}.value",
                     schemeID=ident.scheme)
        if p.name:
            self.cbc(self.cac(party, "PartyName", f"{src}.name"), "Name", p.name, f"{src}.name")
        self.address(party, "PostalAddress", p.address, f"{src}.address")
        if p.vat_number and not self.only_outside_vat():
            scheme = self.cac(party, "PartyTaxScheme", f"{src}.vat_number")
            self.cbc(scheme, "CompanyID", p.vat_number, f"{src}.vat_number")
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "VAT")
        if seller and p.tax_registration:
            scheme = self.cac(party, "PartyTaxScheme", f"{src}.tax_registration")
            self.cbc(scheme, "CompanyID", p.tax_registration, f"{src}.tax_registration")
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "TAX")
        legal = self.cac(party, "PartyLegalEntity", f"{src}.registration_name")
        self.cbc(legal, "RegistrationName", p.registration_name or p.name,
                 f"{src}.registration_name" if p.registration_name else f"{src}.name")
        self.cbc(legal, "CompanyID", p.legal_id, f"{src}.legal_id", schemeID=p.legal_id_scheme)
        if seller:
            self.cbc(legal, "CompanyLegalForm", p.legal_form, f"{src}.legal_form")
        if p.contact_name or p.phone or p.email:
            contact = self.cac(party, "Contact", src)
            self.cbc(contact, "Name", p.contact_name, f"{src}.contact_name")
            self.cbc(contact, "Telephone", p.phone, f"{src}.phone")
            self.cbc(contact, "ElectronicMail", p.email, f"{src}.email")

    def payee(self, root: Node, p: Payee) -> None:
        party = self.cac(root, "PayeeParty", "payee")
        if p.identifier:
            self.cbc(self.cac(party, "PartyIdentification", "payee.identifier"), "ID", p.identifier,
                     "payee.identifier", schemeID=p.identifier_scheme)
        if p.name:
            self.cbc(self.cac(party, "PartyName", "payee.name"), "Name", p.name, "payee.name")
        if p.legal_id:
            self.cbc(self.cac(party, "PartyLegalEntity", "payee.legal_id"), "CompanyID", p.legal_id,
                     "payee.legal_id", schemeID=p.legal_id_scheme)

    def tax_representative(self, root: Node, r: TaxRepresentative) -> None:
        party = self.cac(root, "TaxRepresentativeParty", "tax_representative")
        if r.name:
            self.cbc(self.cac(party, "PartyName", "tax_representative.name"), "Name", r.name,
                     "tax_representative.name")
        self.address(party, "PostalAddress", r.address, "tax_representative.address")
        if r.vat_number:
            scheme = self.cac(party, "PartyTaxScheme", "tax_representative.vat_number")
            self.cbc(scheme, "CompanyID", r.vat_number, "tax_representative.vat_number")
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "VAT")

    def only_outside_vat(self) -> bool:
        """BR-O-02/03/04: a document outside the scope of VAT carries no VAT identifiers."""
        return bool(self.totals.breakdown) and all(s.category == "O" for s in self.totals.breakdown)

    def delivery(self, root: Node, d: Delivery) -> None:
        el = self.cac(root, "Delivery", "delivery")
        self.cbc(el, "ActualDeliveryDate", d.date, "delivery.date")
        if d.location_id or d.address:
            loc = self.cac(el, "DeliveryLocation", "delivery")
            self.cbc(loc, "ID", d.location_id, "delivery.location_id", schemeID=d.location_scheme)
            self.address(loc, "Address", d.address, "delivery.address")
        if d.party_name:
            self.cbc(self.cac(self.cac(el, "DeliveryParty", "delivery.party_name"), "PartyName"), "Name",
                     d.party_name, "delivery.party_name")

    def payment_means(self, root: Node, means: PaymentMeans, src: str) -> None:
        el = self.cac(root, "PaymentMeans", src)
        self.cbc(el, "PaymentMeansCode", means.code, f"{src}.code", name=means.text)
        if self.doc.is_credit_note:
            self.cbc(el, "PaymentDueDate", self.doc.due_date, "due_date")
        self.cbc(el, "PaymentID", means.payment_id, f"{src}.payment_id")
        if means.card:
            card = self.cac(el, "CardAccount", f"{src}.card")
            self.cbc(card, "PrimaryAccountNumberID", means.card.account_number, f"{src}.card.account_number")
            self.cbc(card, "NetworkID", means.card.network, f"{src}.card.network")
            self.cbc(card, "HolderName", means.card.holder_name, f"{src}.card.holder_name")
        if means.account:
            account = self.cac(el, "PayeeFinancialAccount", f"{src}.account")
            self.cbc(account, "ID", means.account.replace(" ", ""), f"{src}.account")
            self.cbc(account, "Name", means.account_name, f"{src}.account_name")
            if means.bic:
                self.cbc(self.cac(account, "FinancialInstitutionBranch", f"{src}.bic"), "ID", means.bic,
                         f"{src}.bic")
        if means.mandate_id or means.payer_account:
            mandate = self.cac(el, "PaymentMandate", f"{src}.mandate_id")
            self.cbc(mandate, "ID", means.mandate_id, f"{src}.mandate_id")
            if means.payer_account:
                self.cbc(self.cac(mandate, "PayerFinancialAccount", f"{src}.payer_account"), "ID",
                         means.payer_account.replace(" ", ""), f"{src}.payer_account")

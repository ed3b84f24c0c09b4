"""The e-invoice document as a plain library (no Flask): the invoice data and its JSON form, totals,
code lists and identifiers, pre-flight findings, and the Peppol BIS 3.0 UBL writer."""

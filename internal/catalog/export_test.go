package catalog

// PartnersSQL is the pairs' read, for EXPLAIN at scale.
const PartnersSQL = partnersSQL

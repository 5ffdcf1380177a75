"""Operations tooling above every domain app: configuration backup (export and import)
and safe strategy rollouts (canary and blue-green with KPI comparison).

It sits at the top of the dependency order (beside api and dashboard): it reads and
writes organizations, accounts, strategy configs, risk profiles and notification routes,
and compares trading KPIs, always through those apps' own services and selectors."""

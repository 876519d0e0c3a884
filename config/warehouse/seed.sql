-- Demo warehouse for mcp-broker: schema "analytics", two tenants, row-level security keyed on the login role.
-- Run by scripts/pg.sh as the superuser with psql variables broker_pw, acme_pw, globex_pw. Idempotent.
\set ON_ERROR_STOP on
DROP DATABASE IF EXISTS warehouse WITH (FORCE);

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wh_acme') THEN CREATE ROLE wh_acme LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wh_globex') THEN CREATE ROLE wh_globex LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wh_analyst') THEN CREATE ROLE wh_analyst NOLOGIN; END IF;
END $$;
ALTER ROLE wh_acme PASSWORD :'acme_pw';
ALTER ROLE wh_globex PASSWORD :'globex_pw';
GRANT wh_analyst TO wh_acme, wh_globex;
-- Backstops; the broker also sets these per transaction. A role default is not a boundary on its own.
ALTER ROLE wh_acme SET default_transaction_read_only = on;
ALTER ROLE wh_globex SET default_transaction_read_only = on;
ALTER ROLE wh_acme SET statement_timeout = '30s';
ALTER ROLE wh_globex SET statement_timeout = '30s';
ALTER ROLE wh_acme SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE wh_globex SET idle_in_transaction_session_timeout = '60s';

CREATE DATABASE warehouse;
\c warehouse
REVOKE ALL ON DATABASE warehouse FROM PUBLIC;
GRANT CONNECT ON DATABASE warehouse TO wh_analyst;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
-- Session-state escapes that a SELECT-only statement could still reach.
REVOKE EXECUTE ON FUNCTION set_config(text, text, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_terminate_backend(integer, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_cancel_backend(integer) FROM PUBLIC;

CREATE SCHEMA analytics;
COMMENT ON SCHEMA analytics IS 'Curated sales analytics: customers, products, orders and order lines per tenant.';
GRANT USAGE ON SCHEMA analytics TO wh_analyst;

-- The login-role → tenant mapping lives outside the curated schema, in a schema tenant roles cannot even look
-- into: listing it would tell every tenant who the others are. Only current_tenant() (SECURITY DEFINER) reads it.
CREATE SCHEMA broker_private;
REVOKE ALL ON SCHEMA broker_private FROM PUBLIC;
CREATE TABLE broker_private.tenant_roles (role_name name PRIMARY KEY, tenant text NOT NULL);
INSERT INTO broker_private.tenant_roles VALUES ('wh_acme', 'acme'), ('wh_globex', 'globex');

CREATE TABLE analytics.regions (region text PRIMARY KEY, name text NOT NULL);
COMMENT ON TABLE analytics.regions IS 'Sales regions.';
INSERT INTO analytics.regions VALUES ('EMEA', 'Europe, Middle East and Africa'), ('AMER', 'Americas'), ('APAC', 'Asia Pacific');

CREATE TABLE analytics.products (
  product_id integer PRIMARY KEY, name text NOT NULL, category text NOT NULL, list_price numeric(12, 2) NOT NULL);
COMMENT ON TABLE analytics.products IS 'Product catalogue shared by all tenants.';
INSERT INTO analytics.products
SELECT g, 'Product ' || lpad(g::text, 3, '0'), (ARRAY['Hardware', 'Software', 'Services', 'Support'])[1 + g % 4],
       round((10 + (g * 7919 % 990))::numeric + (g % 100) / 100.0, 2)
FROM generate_series(1, 200) g;

CREATE TABLE analytics.customers (
  customer_id bigint PRIMARY KEY, tenant text NOT NULL, name text NOT NULL, region text NOT NULL REFERENCES analytics.regions,
  segment text NOT NULL, created_at date NOT NULL);
COMMENT ON TABLE analytics.customers IS 'Customers of the tenant (row-level security: each tenant sees its own).';
COMMENT ON COLUMN analytics.customers.segment IS 'enterprise, mid-market or smb';
INSERT INTO analytics.customers
SELECT g, CASE WHEN g % 2 = 0 THEN 'acme' ELSE 'globex' END, 'Customer ' || g, (ARRAY['EMEA', 'AMER', 'APAC'])[1 + g % 3],
       (ARRAY['enterprise', 'mid-market', 'smb'])[1 + (g / 3) % 3], date '2022-01-01' + (g * 13 % 1000)
FROM generate_series(1, 4000) g;

CREATE TABLE analytics.orders (
  order_id bigint PRIMARY KEY, tenant text NOT NULL, customer_id bigint NOT NULL REFERENCES analytics.customers,
  order_date date NOT NULL, status text NOT NULL, total numeric(14, 2) NOT NULL DEFAULT 0, currency char(3) NOT NULL,
  tags text[] NOT NULL DEFAULT '{}', meta jsonb NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL);
COMMENT ON TABLE analytics.orders IS 'Sales orders (row-level security per tenant). total is the sum of the order lines.';
COMMENT ON COLUMN analytics.orders.status IS 'open, shipped, invoiced or cancelled';
INSERT INTO analytics.orders (order_id, tenant, customer_id, order_date, status, currency, tags, meta, created_at)
SELECT g, c.tenant, c.customer_id, date '2023-01-01' + (g * 7 % 1277), (ARRAY['open', 'shipped', 'invoiced', 'cancelled'])[1 + g % 4],
       'EUR', CASE WHEN g % 5 = 0 THEN ARRAY['priority'] ELSE ARRAY[]::text[] END,
       jsonb_build_object('channel', (ARRAY['web', 'partner', 'direct'])[1 + g % 3]),
       timestamptz '2023-01-01 08:00:00+00' + (g * 7 % 1277) * interval '1 day' + (g % 600) * interval '1 minute'
FROM generate_series(1, 60000) g
JOIN analytics.customers c ON c.customer_id = 1 + (g * 31 % 4000);

CREATE TABLE analytics.order_lines (
  order_id bigint NOT NULL REFERENCES analytics.orders, line_no integer NOT NULL, tenant text NOT NULL,
  product_id integer NOT NULL REFERENCES analytics.products, quantity integer NOT NULL, unit_price numeric(12, 2) NOT NULL,
  PRIMARY KEY (order_id, line_no));
COMMENT ON TABLE analytics.order_lines IS 'Order lines (row-level security per tenant).';
INSERT INTO analytics.order_lines
SELECT o.order_id, l, o.tenant, 1 + ((o.order_id * 17 + l * 101) % 200), 1 + ((o.order_id + l) % 9), p.list_price
FROM analytics.orders o
CROSS JOIN LATERAL generate_series(1, 1 + (o.order_id % 3)::int) l
JOIN analytics.products p ON p.product_id = 1 + ((o.order_id * 17 + l * 101) % 200);
UPDATE analytics.orders o SET total = s.amount
FROM (SELECT order_id, sum(quantity * unit_price) AS amount FROM analytics.order_lines GROUP BY order_id) s
WHERE s.order_id = o.order_id;

CREATE VIEW analytics.monthly_revenue WITH (security_invoker = true) AS
SELECT o.tenant, date_trunc('month', o.order_date)::date AS month, c.region, sum(o.total) AS revenue, count(*) AS orders
FROM analytics.orders o JOIN analytics.customers c USING (customer_id)
WHERE o.status <> 'cancelled'
GROUP BY 1, 2, 3;
COMMENT ON VIEW analytics.monthly_revenue IS 'Revenue per month and region (cancelled orders excluded).';

-- For timeout tests: a view whose evaluation sleeps (the analyst gate refuses pg_sleep written directly).
CREATE VIEW analytics.slow_report WITH (security_invoker = true) AS SELECT pg_sleep(20) IS NULL AS done, 1 AS one;
COMMENT ON VIEW analytics.slow_report IS 'A deliberately slow view (20 s) used to demonstrate statement timeouts.';

-- Row-level security keyed on the login role: the tenant comes from who connected, never from a setting.
-- SECURITY DEFINER so it can read the private mapping (hence session_user: inside it current_user is the owner);
-- a fixed search_path so that nothing a caller puts on its path can change what it reads.
CREATE FUNCTION analytics.current_tenant() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT tenant FROM broker_private.tenant_roles WHERE role_name = session_user $$;
REVOKE ALL ON FUNCTION analytics.current_tenant() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.current_tenant() TO wh_analyst;
ALTER TABLE analytics.customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.order_lines ENABLE ROW LEVEL SECURITY;
-- (SELECT …) makes the call an InitPlan, evaluated once per query instead of once per row.
CREATE POLICY tenant_isolation ON analytics.customers USING (tenant = (SELECT analytics.current_tenant()));
CREATE POLICY tenant_isolation ON analytics.orders USING (tenant = (SELECT analytics.current_tenant()));
CREATE POLICY tenant_isolation ON analytics.order_lines USING (tenant = (SELECT analytics.current_tenant()));

GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO wh_analyst;

-- Ingest events: the one table tenants may write, through a named query declared `write: true`. The key makes a
-- retried write land once; row-level security keeps each tenant to its own rows, for reads and writes alike.
CREATE TABLE analytics.ingest_events (
  tenant text NOT NULL DEFAULT analytics.current_tenant(),
  idempotency_key text NOT NULL,
  note text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, idempotency_key)
);
ALTER TABLE analytics.ingest_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.ingest_events
  USING (tenant = (SELECT analytics.current_tenant())) WITH CHECK (tenant = (SELECT analytics.current_tenant()));
GRANT SELECT, INSERT ON analytics.ingest_events TO wh_analyst;

-- A table the broker must never be able to write to: the hostile-SQL tests check it stays empty.
CREATE TABLE analytics.write_canary (id serial PRIMARY KEY, note text);
GRANT SELECT ON analytics.write_canary TO wh_analyst;
ANALYZE;

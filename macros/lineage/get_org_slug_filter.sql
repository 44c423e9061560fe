{#-
    SQL predicate restricting rows to var('org_slug'), or `true` when the var is none.
    The slug is validated against ^[a-z0-9_]{3,50}$ before it is written into SQL; anything else
    stops compilation, so an unvalidated value never reaches a query.
-#}
{% macro get_org_slug_filter(column_name='x_org_slug') %}
    {%- set org_slug = var('org_slug', none) -%}
    {%- if org_slug is none or org_slug == '' -%}
        {{ return('true') }}
    {%- endif -%}
    {%- if org_slug is not string or modules.re.fullmatch('[a-z0-9_]{3,50}', org_slug) is none -%}
        {{ exceptions.raise_compiler_error(
            "var('org_slug') must match ^[a-z0-9_]{3,50}$, got " ~ (org_slug | string | truncate(60)) ~ "") }}
    {%- endif -%}
    {{ return(column_name ~ " = '" ~ org_slug ~ "'") }}
{% endmacro %}

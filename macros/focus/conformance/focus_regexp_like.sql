{#- True when the whole string matches an (anchored) RE2 pattern; null stays null. Patterns avoid backslashes so one literal works everywhere. -#}
{% macro focus_regexp_like(expression, pattern) %}{{ return(adapter.dispatch('focus_regexp_like', 'focusline')(expression, pattern)) }}{% endmacro %}

{% macro default__focus_regexp_like(expression, pattern) %}regexp_like({{ expression }}, '{{ pattern }}'){% endmacro %}

{#- bigquery: REGEXP_CONTAINS (the pattern is anchored) -#}
{% macro bigquery__focus_regexp_like(expression, pattern) %}regexp_contains({{ expression }}, '{{ pattern }}'){% endmacro %}

{#- duckdb: regexp_matches (the pattern is anchored) -#}
{% macro duckdb__focus_regexp_like(expression, pattern) %}regexp_matches({{ expression }}, '{{ pattern }}'){% endmacro %}

{#-
    The run's data window from var('start_date') / var('end_date') (inclusive UTC dates,
    YYYY-MM-DD) as {'start_date': 'YYYY-MM-DD', 'end_date': 'YYYY-MM-DD'}, or none when both are
    unset. One bound alone, a malformed date or start > end stops compilation. Values are
    re-serialised from parsed dates, so only ISO dates reach SQL.
-#}
{% macro get_date_window() %}
    {%- set raw_start = var('start_date', none) -%}
    {%- set raw_end = var('end_date', none) -%}
    {%- if (raw_start is none or raw_start == '') and (raw_end is none or raw_end == '') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if raw_start is none or raw_start == '' or raw_end is none or raw_end == '' -%}
        {{ exceptions.raise_compiler_error("vars start_date and end_date must be given together") }}
    {%- endif -%}
    {%- set parsed = [] -%}
    {%- for raw in [raw_start, raw_end] -%}
        {%- set text = raw | string -%}
        {%- if modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) is none -%}
            {{ exceptions.raise_compiler_error("start_date/end_date must be YYYY-MM-DD, got " ~ (text | truncate(40))) }}
        {%- endif -%}
        {%- do parsed.append(modules.datetime.date.fromisoformat(text)) -%}
    {%- endfor -%}
    {%- if parsed[0] > parsed[1] -%}
        {{ exceptions.raise_compiler_error("start_date " ~ parsed[0] ~ " is after end_date " ~ parsed[1]) }}
    {%- endif -%}
    {{ return({'start_date': parsed[0].isoformat(), 'end_date': parsed[1].isoformat()}) }}
{% endmacro %}

{#-
    The JSONCheckPath* / JSONFormat* CheckFunctions over a JSON object column (json: an expression
    of JSON type). Paths have the shapes '$.Elements', '$.Elements[*]' and '$.Elements[*].<Key>':
    a '[*]' path holds when every element of the array satisfies it (an absent array passes here;
    the '$.Elements' type rule catches that).
-#}
{% macro _focus_json_path_check_sql(node, json) %}
    {%- set fn = node['CheckFunction'] -%}
    {%- set path = node.get('Path') or node.get('PathA') -%}
    {%- if '[*]' not in path -%}
        {%- set value = focusline.focus_json_query(json, path) -%}
        {%- if fn == 'JSONCheckPathType' -%}
            ({{ focusline.focus_json_type(value) }} = '{{ {'Array': 'array', 'Object': 'object', 'String': 'string', 'Decimal': 'number'}[node['ExpectedType']] }}')
        {%- else -%}
            {{ exceptions.raise_compiler_error("unsupported JSON path check " ~ fn ~ " " ~ path) }}
        {%- endif -%}
    {%- else -%}
        {%- set array_path, key = path.split('[*]')[0], path.split('[*]')[1].lstrip('.') -%}
        {%- set value = focusline.focus_json_query('element', '$.' ~ key) if key else 'element' -%}
        {%- if fn == 'JSONCheckPathType' -%}
            {%- set predicate = focusline.focus_json_type(value) ~ " = '" ~ {'Array': 'array', 'Object': 'object', 'String': 'string', 'Decimal': 'number'}[node['ExpectedType']] ~ "'" -%}
            {%- if key -%}{%- set predicate = value ~ ' is null or ' ~ focusline.focus_json_type(value) ~ " = 'null' or " ~ predicate -%}{%- endif -%}
        {%- elif fn == 'JSONCheckPathKeyExists' -%}
            {%- set predicate = value ~ ' is not null' -%}
        {%- elif fn == 'JSONCheckPathValue' and node['Value'] is none -%}
            {%- set predicate = value ~ ' is null or ' ~ focusline.focus_json_type(value) ~ " = 'null'" -%}
        {%- elif fn in ('JSONCheckPathNotValue', 'JSONCheckPathNotValue') and node['Value'] is none -%}
            {%- set predicate = value ~ ' is not null and ' ~ focusline.focus_json_type(value) ~ " <> 'null'" -%}
        {%- elif fn == 'JSONCheckPathKeyValueFormat' -%}
            {%- set predicate = focusline.focus_json_is_flat_object(value) -%}
        {%- elif fn in ('JSONFormatNumeric', 'JSONCheckPathNumericFormat') -%}
            {%- set predicate = value ~ ' is null or ' ~ focusline.focus_json_type(value) ~ " in ('number', 'null')" -%}
        {%- elif fn == 'JSONFormatUnit' or fn == 'JSONCheckPathUnitFormat' -%}
            {%- set predicate = value ~ ' is null or ' ~ focusline.focus_regexp_like(focusline.focus_json_query_string(value, '$'), '^([1-9][0-9]* )?[A-Za-z]([A-Za-z0-9 /-]*[A-Za-z0-9])?$') -%}
        {%- elif fn == 'JSONCheckPathSameValue' -%}
            {%- set predicate = focusline.focus_json_query_string('element', '$.' ~ key) ~ ' = ' ~ node['ColumnBName'] -%}
        {%- elif fn == 'JSONCheckPathKeyStartsWith' -%}
            {%- set ignore -%}({% for k in node['IgnoreKeys'] %}'{{ k }}'{{ ', ' if not loop.last }}{% endfor %}){%- endset -%}
            {%- set predicate = 'not exists (select 1 from ' ~ focusline.focus_unnest_json_keys(value) ~ " where not (json_key like '" ~ node['Prefix'] ~ "%' or json_key in " ~ ignore ~ '))' -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("unsupported JSON path check " ~ fn) }}
        {%- endif -%}
        (not exists (select 1 from {{ focusline.focus_unnest_json_array(json, array_path) }} where not coalesce({{ predicate }}, false)))
    {%- endif -%}
{% endmacro %}

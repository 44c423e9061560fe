{#-
    The relation the generated FOCUS 1.3 conformance tests (_focus_conformance.yml) run against: a
    view over the organisation's cost_data_standard_1_3. Disabled unless var focus_conformance is
    true (`run.py conformance ORG` sets it), so pipeline builds neither create it nor run its tests.
-#}
{{ config(materialized='view', enabled=var('focus_conformance', false)) }}

select * from {{ ref('cost_data_standard_1_3') }}

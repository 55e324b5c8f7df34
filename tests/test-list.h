/*
 * test-list.h - every unit test, declared once (the libuv test-list idea).
 *
 * SUITE(name) opens a suite; TEST(suite, fn) adds fn (void fn(void), defined
 * in tests/<layer>/test_*.c) to it. unit_main.c expands this list twice: once
 * to declare the functions, once to register them with CUnit.
 */
#define IOMMUSIM_TEST_LIST(SUITE, TEST)                                      \
    SUITE(engine_error)                                                      \
    TEST(engine_error, test_error_messages_distinct)                         \
    TEST(engine_error, test_error_format_where_what_detail)                  \
    TEST(engine_error, test_error_format_truncates)                          \
    SUITE(engine_clock)                                                      \
    TEST(engine_clock, test_clock_parse_accepts)                             \
    TEST(engine_clock, test_clock_parse_rejects)                             \
    TEST(engine_clock, test_clock_whole_period)                              \
    TEST(engine_clock, test_clock_fractional_period_rounding)                \
    TEST(engine_clock, test_clock_no_drift)                                  \
    TEST(engine_clock, test_clock_round_trip)                                \
    SUITE(engine_fifo)                                                       \
    TEST(engine_fifo, test_fifo_same_run_as_plain_events)                   \
    TEST(engine_fifo, test_fifo_out_of_order_and_errors)                    \
    SUITE(engine_event)                                                      \
    TEST(engine_event, test_event_order_by_time)                             \
    TEST(engine_event, test_event_order_by_priority)                         \
    TEST(engine_event, test_event_order_fifo)                                \
    TEST(engine_event, test_event_schedule_errors)                           \
    TEST(engine_event, test_event_deschedule)                                \
    TEST(engine_event, test_event_reschedule_moves_and_requeues)             \
    TEST(engine_event, test_event_periodic_self_reschedule)                  \
    TEST(engine_event, test_event_deschedule_other_from_callback)            \
    TEST(engine_event, test_event_schedule_now_from_callback)                \
    TEST(engine_event, test_event_free_in_own_callback)                      \
    TEST(engine_event, test_run_until_boundaries)                            \
    TEST(engine_event, test_run_for_tiles_time)                              \
    TEST(engine_event, test_run_empty_and_counts)                            \
    TEST(engine_event, test_run_stop_from_callback)                          \
    TEST(engine_event, test_run_max_events)                                  \
    TEST(engine_event, test_run_past_limit_keeps_time)                       \
    SUITE(engine_eventq)                                                     \
    TEST(engine_eventq, test_eventq_random_vs_sorted_list)                   \
    TEST(engine_eventq, test_eventq_random_heavy_ties)                       \
    TEST(engine_eventq, test_eventq_burst_deep_rungs)                        \
    TEST(engine_eventq, test_eventq_far_future_outliers)                     \
    TEST(engine_eventq, test_eventq_random_large_population)                 \
    TEST(engine_eventq, test_eventq_grow_from_small)                         \
    SUITE(engine_rng)                                                        \
    TEST(engine_rng, test_rng_xoshiro_known_answer)                          \
    TEST(engine_rng, test_rng_stream_determinism)                            \
    TEST(engine_rng, test_rng_stream_order_independent)                      \
    TEST(engine_rng, test_rng_streams_independent)                           \
    TEST(engine_rng, test_rng_below_uniform)                                 \
    TEST(engine_rng, test_rng_exponential_moments)                           \
    TEST(engine_rng, test_rng_zipf_matches_pmf)                              \
    TEST(engine_rng, test_rng_zipf_rejects_bad_params)                       \
    TEST(engine_rng, test_rng_empirical_matches_weights)                     \
    TEST(engine_rng, test_rng_empirical_rejects_bad_weights)                  \
    SUITE(engine_units)                                                      \
    TEST(engine_units, test_units_size)                                      \
    TEST(engine_units, test_units_latency)                                   \
    TEST(engine_units, test_units_latency_rounding_and_overflow)             \
    TEST(engine_units, test_units_bandwidth)                                 \
    TEST(engine_units, test_units_int_bool_float_ratio)                      \
    TEST(engine_units, test_units_format_round_trip)                         \
    TEST(engine_units, test_param_parse_messages)                            \
    TEST(engine_units, test_param_bounds_and_enum)                           \
    TEST(engine_units, test_param_lists)                                     \
    SUITE(engine_object)                                                     \
    TEST(engine_object, test_registry_well_formed)                           \
    TEST(engine_object, test_registry_describe_lists_every_param)            \
    TEST(engine_object, test_object_check_reports_every_problem)             \
    TEST(engine_object, test_object_refs_resolved_and_checked)               \
    TEST(engine_object, test_object_periodic_cycles_exact)                   \
    TEST(engine_object, test_object_poisson_count_and_determinism)           \
    TEST(engine_object, test_object_reset_stats)                             \
    TEST(engine_object, test_object_list_refs_and_trace)                     \
    SUITE(engine_world_sets)                                                 \
    TEST(engine_world_sets, test_run_before_key)                             \
    TEST(engine_world_sets, test_world_sets_same_as_one)                     \
    TEST(engine_world_sets, test_world_sets_time_order_cap)                  \
    TEST(engine_world_sets, test_world_sets_refs_and_catch_up)               \
    TEST(engine_world_sets, test_world_pool_threads)                         \
    SUITE(stats_registry)                                                   \
    TEST(stats_registry, test_stats_register_paths)                         \
    TEST(stats_registry, test_stats_register_errors_sticky)                 \
    TEST(stats_registry, test_stats_register_after_freeze)                  \
    TEST(stats_registry, test_stats_record_and_dump)                        \
    TEST(stats_registry, test_stats_reset_semantics)                        \
    TEST(stats_registry, test_stats_twa_hand_derived)                       \
    TEST(stats_registry, test_stats_dump_order_enforced)                    \
    SUITE(stats_hist)                                                       \
    TEST(stats_hist, test_stats_hist_linear_bins)                           \
    TEST(stats_hist, test_stats_hist_log2_bins)                             \
    TEST(stats_hist, test_stats_hist_moments)                               \
    TEST(stats_hist, test_stats_hist_percentile_rank_exact)                 \
    TEST(stats_hist, test_stats_hist_percentiles_linear_vs_exact)           \
    TEST(stats_hist, test_stats_hist_percentiles_log2_vs_exact)             \
    TEST(stats_hist, test_stats_hist_percentile_degenerate)                 \
    SUITE(stats_formula)                                                    \
    TEST(stats_formula, test_stats_formula_hit_rate)                        \
    TEST(stats_formula, test_stats_formula_divide_by_zero)                  \
    TEST(stats_formula, test_stats_formula_precedence)                      \
    TEST(stats_formula, test_stats_formula_vector_hist_time)                \
    TEST(stats_formula, test_stats_formula_chain_and_cycle)                 \
    TEST(stats_formula, test_stats_formula_resolve_errors)                  \
    TEST(stats_formula, test_stats_formula_syntax_errors) \
    SUITE(engine_resource)                                                   \
    TEST(engine_resource, test_resource_fifo_grant_order)                    \
    TEST(engine_resource, test_resource_mode_mix_and_errors)                 \
    TEST(engine_resource, test_resource_md1_wait)                            \
    TEST(engine_resource, test_resource_mm1_wait)                            \
    TEST(engine_resource, test_resource_mm2_reserve_erlang_c)                \
    TEST(engine_resource, test_resource_modes_agree)                         \
    SUITE(mem_pgtable)                                                       \
    TEST(mem_pgtable, test_pgtable_map_lookup_walk)                          \
    TEST(mem_pgtable, test_pgtable_pgsize_choice)                            \
    TEST(mem_pgtable, test_pgtable_overlap_rolls_back)                       \
    TEST(mem_pgtable, test_pgtable_unmap_frees_and_reports)                  \
    TEST(mem_pgtable, test_pgtable_bad_input)                                \
    TEST(mem_pgtable, test_pgtable_random_vs_interval_list)                  \
    TEST(mem_pgtable, test_pgtable_memory_proportional)                      \
    SUITE(iommu_api)                                                         \
    TEST(iommu_api, test_iommu_b1_translate_mandatory)                       \
    TEST(iommu_api, test_iommu_b2_defaults)                                  \
    TEST(iommu_api, test_iommu_b3_register_validation)                       \
    TEST(iommu_api, test_iommu_b4_flag_union)                                \
    TEST(iommu_api, test_iommu_b5_refusal_rolls_back)                        \
    TEST(iommu_api, test_iommu_b6_fanout_filters)                            \
    TEST(iommu_api, test_iommu_b7_unmap_perm_and_change_order)               \
    TEST(iommu_api, test_iommu_b8_deviotlb_crop)                             \
    TEST(iommu_api, test_iommu_b9_default_replay)                            \
    TEST(iommu_api, test_iommu_b10_unmap_notifier_range)                     \
    TEST(iommu_api, test_iommu_b11_cached_user_never_stale)                  \
    TEST(iommu_api, test_iommu_b12_per_index)                                \
    TEST(iommu_api, test_iommu_b14_get_attr)                                 \
    TEST(iommu_api, test_iommu_fanout_cost)                                  \
    SUITE(iommu_iotlb)                                                       \
    TEST(iommu_iotlb, test_iotlb_uniform_hit_rate_c_over_n)                  \
    TEST(iommu_iotlb, test_iotlb_sequential_63_of_64)                        \
    TEST(iommu_iotlb, test_iotlb_cyclic_scan_zero)                           \
    TEST(iommu_iotlb, test_iotlb_plru_differs_from_lru)                      \
    TEST(iommu_iotlb, test_iotlb_fifo_ignores_hits)                          \
    TEST(iommu_iotlb, test_iotlb_page_sizes_split_and_unified)               \
    TEST(iommu_iotlb, test_iotlb_invalidation_kinds)                         \
    TEST(iommu_iotlb, test_iotlb_mshr_merging)                               \
    TEST(iommu_iotlb, test_iotlb_bad_config)                                 \
    SUITE(iommu_walk)                                                        \
    TEST(iommu_walk, test_mem_latency_and_channel_queueing)                  \
    TEST(iommu_walk, test_mem_llc_hit_probability)                           \
    TEST(iommu_walk, test_mem_bad_config)                                    \
    TEST(iommu_walk, test_walk_counts_cold_warm)                             \
    TEST(iommu_walk, test_walk_nested_24)                                    \
    TEST(iommu_walk, test_walk_fault)                                        \
    TEST(iommu_walk, test_walk_queue_md1)                                    \
    SUITE(iommu_generic)                                                     \
    TEST(iommu_generic, test_generic_timed_matches_functional)               \
    TEST(iommu_generic, test_generic_hit_and_miss_timing)                    \
    TEST(iommu_generic, test_generic_unmap_invalidates_and_notifies)         \
    TEST(iommu_generic, test_generic_map_events_and_replay)                  \
    TEST(iommu_generic, test_generic_model_table) \
    TEST(iommu_generic, test_generic_caching_mode_costs) \
    SUITE(os_dma)                                                            \
    TEST(os_dma, test_iova_top_down_aligned)                                 \
    TEST(os_dma, test_iova_lifo_reuse_and_depot)                             \
    TEST(os_dma, test_iova_drain_on_exhaustion)                              \
    TEST(os_dma, test_os_strict_one_invalidation_per_unmap)                  \
    TEST(os_dma, test_os_lazy_flush_count)                                   \
    TEST(os_dma, test_os_lazy_stale_window_and_domain_flush)                 \
    TEST(os_dma, test_os_no_reuse_before_invalidation)                       \
    TEST(os_dma, test_os_passthrough_identity) \
    SUITE(trace_parse)                                                       \
    TEST(trace_parse, test_trace_parse_accepts)                              \
    TEST(trace_parse, test_trace_parse_skips)                                \
    TEST(trace_parse, test_trace_parse_rejects)                              \
    TEST(trace_parse, test_trace_import_line_numbers)                        \
    TEST(trace_parse, test_trace_import_checks_and_sort)                     \
    TEST(trace_parse, test_trace_live_coverage)                              \
    SUITE(trace_file)                                                        \
    TEST(trace_file, test_trace_file_round_trip)                             \
    TEST(trace_file, test_trace_file_layout)                                 \
    TEST(trace_file, test_trace_file_rejects)                                \
    TEST(trace_file, test_trace_file_atomic)                                 \
    TEST(trace_file, test_trace_gen_deterministic)                           \
    TEST(trace_file, test_trace_gen_consistent)                              \
    SUITE(trace_replay)                                                      \
    TEST(trace_replay, test_trace_replay_even_spread)                        \
    TEST(trace_replay, test_trace_replay_spacing_and_scale)                  \
    TEST(trace_replay, test_trace_replay_partial_unmap_and_errors)           \
    TEST(trace_replay, test_trace_replay_generic_sink) \
    SUITE(dev)                                                               \
    TEST(dev, test_dev_lathist_percentiles)                                  \
    TEST(dev, test_dev_link_rates_and_timing)                                \
    TEST(dev, test_dev_engine_split_and_tags)                                \
    TEST(dev, test_dev_engine_fault)                                         \
    TEST(dev, test_dev_link_bound_throughput)                                \
    TEST(dev, test_dev_open_loop_arrivals)                                   \
    TEST(dev, test_dev_pattern_offsets)                                      \
    TEST(dev, test_dev_ats_device_tlb)                                       \
    TEST(dev, test_dev_posted_writes_tags_and_counts)                        \
    SUITE(iommu_model_example)                                               \
    TEST(iommu_model_example, test_model_example_translate)                 \
    TEST(iommu_model_example, test_model_example_defaults)                  \
    TEST(iommu_model_example, test_model_example_move_unmaps)                \
    SUITE(param_string)                                                      \
    TEST(param_string, test_param_string_parse_format)                       \
    TEST(param_string, test_param_path_checks)                               \
    TEST(param_string, test_param_string_object_owns_text)                   \
    SUITE(trace_object)                                                      \
    TEST(trace_object, test_trace_object_text_and_binary)                    \
    TEST(trace_object, test_trace_object_params_reach_replay)                \
    TEST(trace_object, test_trace_object_errors)                             \
    SUITE(stats_objstats)                                                    \
    TEST(stats_objstats, test_stats_counter_ref_and_fn)                      \
    TEST(stats_objstats, test_stats_world_register_sources) \
    SUITE(os_iova_scan)                                                      \
    TEST(os_iova_scan, test_iova_scan_matches_reference)                     \
    SUITE(iommu_generic_batch)                                               \
    TEST(iommu_generic_batch, test_generic_batch_order) \
    TEST(iommu_generic_batch, test_generic_pwc_inval_after_walks)           \
    TEST(iommu_generic_batch, test_generic_fold_exact)                      \
    SUITE(dev_series)                                                        \
    TEST(dev_series, test_dev_interval_throughput)                           \
    TEST(dev_series, test_dev_link_memo_exact)                               \
    SUITE(stats_histref)                                                     \
    TEST(stats_histref, test_stats_lathist_by_reference)                     \
    TEST(stats_histref, test_stats_sink_delta_log) \
    SUITE(iommu_consumers)                                                   \
    TEST(iommu_consumers, test_consumers_table)                              \
    TEST(iommu_consumers, test_vfio_shadow_composition_random)               \
    TEST(iommu_consumers, test_vfio_shadow_event_counts_and_replay)          \
    TEST(iommu_consumers, test_vfio_shadow_lock_serialisation)               \
    TEST(iommu_consumers, test_vfio_shadow_refused_without_map_events)       \
    TEST(iommu_consumers, test_vhost_iotlb_hit_rate_and_stale)               \
    TEST(iommu_consumers, test_cpu_tlb_flush_per_event)                      \
    TEST(iommu_consumers, test_vhost_iotlb_engine_path)                      \
    SUITE(iommu_tz_mpc)                                                      \
    TEST(iommu_tz_mpc, test_tz_mpc_secure_vs_nonsecure)                      \
    TEST(iommu_tz_mpc, test_tz_mpc_change_unmaps_both_indexes)               \
    TEST(iommu_tz_mpc, test_tz_mpc_blocked_counting)                         \
    TEST(iommu_tz_mpc, test_tz_mpc_raz_wi_vs_bus_error)                      \
    TEST(iommu_tz_mpc, test_tz_mpc_domain_ops)                               \
    TEST(iommu_tz_mpc, test_tz_mpc_masters_mid_run_change) \
    SUITE(iommu_virtio)                                                      \
    TEST(iommu_virtio, test_virtio_iommu_request_costs)                      \
    TEST(iommu_virtio, test_virtio_iommu_events)                             \
    TEST(iommu_virtio, test_virtio_iommu_limits)                             \
    TEST(iommu_virtio, test_virtio_iommu_boot_bypass)                        \
    TEST(iommu_virtio, test_virtio_iommu_replay)                             \
    TEST(iommu_virtio, test_virtio_iommu_lazy_batch)                         \
    TEST(iommu_virtio, test_virtio_iommu_tree_reference)                     \
    TEST(iommu_virtio, test_virtio_iommu_dma_device_lazy)                    \
    SUITE(iommu_vtd)                                                         \
    TEST(iommu_vtd, test_vtd_qi_timing)                                      \
    TEST(iommu_vtd, test_vtd_caching_mode_events)                            \
    TEST(iommu_vtd, test_vtd_replay)                                         \
    TEST(iommu_vtd, test_vtd_nested_walk_reads)                              \
    TEST(iommu_vtd, test_vtd_context_cache)                                  \
    TEST(iommu_vtd, test_vtd_device_tlb)                                     \
    TEST(iommu_vtd, test_vtd_timed_matches_functional)                       \
    TEST(iommu_vtd, test_vtd_walk_merges_and_folds)                          \
    SUITE(iommu_amdvi)                                                       \
    TEST(iommu_amdvi, test_amdvi_level_skipping_reads)                       \
    TEST(iommu_amdvi, test_amdvi_command_buffer_timing)                      \
    TEST(iommu_amdvi, test_amdvi_npcache_map_events) \
    TEST(iommu_amdvi, test_amdvi_object_nic_strict) \
    TEST(iommu_amdvi, test_amdvi_ats_flush) \
    SUITE(iommu_smmuv3)                                                      \
    TEST(iommu_smmuv3, test_smmuv3_hierarchy_sequence)                       \
    TEST(iommu_smmuv3, test_smmuv3_nested_walk_reads)                        \
    TEST(iommu_smmuv3, test_smmuv3_nested_nonfinal)                          \
    TEST(iommu_smmuv3, test_smmuv3_sync_ordering)                            \
    TEST(iommu_smmuv3, test_smmuv3_stall_and_terminate)                      \
    TEST(iommu_smmuv3, test_smmuv3_atc_inv)                                  \
    TEST(iommu_smmuv3, test_smmuv3_domain_strict_unmap)                      \
    TEST(iommu_smmuv3, test_smmuv3_config_cache)                             \
    TEST(iommu_smmuv3, test_smmuv3_prefetch)                                 \
    TEST(iommu_smmuv3, test_smmuv3_prefetch_reserve_last_way)                \
    TEST(iommu_smmuv3, test_smmuv3_reserve_way_plru)                         \
    TEST(iommu_smmuv3, test_smmuv3_lookup_slots)                             \
    TEST(iommu_smmuv3, test_smmuv3_stream_configs)                           \
    TEST(iommu_smmuv3, test_smmuv3_slots)                                    \
    TEST(iommu_smmuv3, test_smmuv3_walk_across_invalidation)                 \
    TEST(iommu_smmuv3, test_smmuv3_ipa_cache)                                \
    SUITE(stats_rowdeflate)                                                  \
    TEST(stats_rowdeflate, test_stats_rowdeflate_roundtrip)                  \
    TEST(stats_rowdeflate, test_stats_rowdeflate_incompressible) \
    SUITE(iommu_vstack)                                                      \
    TEST(iommu_vstack, test_vstack_vtd_cm_burst_timing)                      \
    TEST(iommu_vstack, test_vstack_virtio_burst_timing)                      \
    TEST(iommu_vstack, test_vstack_vtd_cm_shadow_counts)                     \
    TEST(iommu_vstack, test_vstack_vtd_cm_composition_random)                \
    TEST(iommu_vstack, test_vstack_vtd_default_replay_granules) \
    SUITE(iommu_amdvi_levels)                                                \
    TEST(iommu_amdvi_levels, test_amdvi_levels_skip_2m_1g_4k)                \
    TEST(iommu_amdvi_levels, test_amdvi_levels_skipped_bits_fault)           \
    TEST(iommu_amdvi_levels, test_amdvi_levels_reinsert_one_level_at_a_time) \
    SUITE(plugin_registry)                                                   \
    TEST(plugin_registry, test_plugin_registry_add_and_truncate)             \
    TEST(plugin_registry, test_plugin_registry_refusals)                     \
    TEST(plugin_registry, test_plugin_iommu_table_add_and_truncate)         \
    SUITE(mem_pgtable_granule)                                               \
    TEST(mem_pgtable_granule, test_pgtable_granule_levels)                   \
    TEST(mem_pgtable_granule, test_pgtable_granule_16k_map_walk)             \
    TEST(mem_pgtable_granule, test_pgtable_granule_64k_map_walk)             \
    TEST(mem_pgtable_granule, test_pgtable_granule_64k_pgsize_and_unmap)     \
    TEST(mem_pgtable_granule, test_pgtable_granule_bad_input)                \
    SUITE(iommu_smmuv3_granule)                                              \
    TEST(iommu_smmuv3_granule, test_smmuv3_granule_s1_cold_walks)            \
    TEST(iommu_smmuv3_granule, test_smmuv3_granule_nested_cold_walks)        \
    TEST(iommu_smmuv3_granule, test_smmuv3_granule_64k_block)                \
    TEST(iommu_smmuv3_granule, test_smmuv3_granule_64k_pwc_sharing)          \
    TEST(iommu_smmuv3_granule, test_smmuv3_granule_os_domain)                \
    TEST(iommu_smmuv3_granule, test_smmuv3_granule_bad_config)               \
    TEST(iommu_smmuv3_granule, test_smmuv3_l3_walk_cache)                    \
    TEST(iommu_smmuv3_granule, test_smmuv3_granule_tlb_reach)                \
    SUITE(iommu_iotlb_summaries)                                             \
    TEST(iommu_iotlb_summaries, test_iotlb_summaries_match_reference)        \
    TEST(iommu_iotlb_summaries, test_iotlb_summaries_memo_after_removal)     \
    TEST(iommu_iotlb_summaries, test_iotlb_summaries_mshr_holes)             \
    SUITE(dev_round_tick)                                                    \
    TEST(dev_round_tick, test_round_tick_matches_llround)                    \
    SUITE(iommu_vtd_mshr)                                                    \
    TEST(iommu_vtd_mshr, test_vtd_mshr_memo_and_page_counts)

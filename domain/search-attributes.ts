/** Custom search attributes that make tasks filterable in the Web UI and `agent list`. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const AGENT_STATUS = defineSearchAttributeKey('AgentStatus', SearchAttributeType.KEYWORD);
export const AGENT_STAGE = defineSearchAttributeKey('AgentStage', SearchAttributeType.KEYWORD);
export const AGENT_PENDING_APPROVAL = defineSearchAttributeKey('AgentPendingApproval', SearchAttributeType.BOOL);

/** Name → type, in the form both the dev server's `--search-attribute` flag and the operator API take. */
export const CUSTOM_SEARCH_ATTRIBUTES = {
  [AGENT_STATUS.name]: 'Keyword',
  [AGENT_STAGE.name]: 'Keyword',
  [AGENT_PENDING_APPROVAL.name]: 'Bool',
} as const;

/* lanner evaluate: a saved model on new data with a pipeline outcome section. */
typedef int evaluate_placeholder;

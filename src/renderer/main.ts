// Renderer entry: global styles, the theme before the first paint, then the app.
import { createApp } from 'vue'
import App from './App.vue'
import './styles.css'
import { useTheme } from './composables/useTheme'

useTheme()
createApp(App).mount('#app')
